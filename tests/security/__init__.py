"""Security tests: each attack of issue 14, refused."""
