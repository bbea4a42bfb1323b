"""Monitoring: service discovery for Prometheus, the testbed exporter, and
the Prometheus (and Grafana) that scrape them."""
