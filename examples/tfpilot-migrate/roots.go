package main

// The container image (the repository's Dockerfile) is built FROM
// scratch, with no CA bundle. This package gives crypto/x509 Mozilla's
// roots (as golang.org/x/crypto publishes them) only when the system has
// none, so https to GitHub, S3 and PostgreSQL verifies there; a system
// bundle, SSL_CERT_FILE or SSL_CERT_DIR still wins everywhere else.
import _ "golang.org/x/crypto/x509roots/fallback"
