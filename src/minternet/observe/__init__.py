"""Watching the network: trace events, timelines, pcap capture."""
