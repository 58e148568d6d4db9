"""A simulated Steam store over real HTTP on 127.0.0.1: test and demo apparatus, not the product."""
