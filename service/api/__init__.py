"""HTTP only: FastAPI routes, authentication, problem answers, limits, OpenAPI, metrics and
serving.
"""
