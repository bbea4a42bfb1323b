"""Run one scenario under several protocols and compare them."""
