// Package composetest tests the repository's Dockerfile and compose.yaml
// as an operator uses them: it builds the server and fake-GitHub images
// from the Dockerfile, checks what the image promises (static, non-root,
// no shell), brings compose.yaml's cluster up (two replicas of the
// reference server on one PostgreSQL, the standalone fake GitHub, an S3
// server) and drives one request to applied through both replicas.
//
// It needs a Docker engine, docker-compose and a base image with Go for
// the Dockerfile's build stage; scripts/test-containers provides all
// three and sets
//
//	DOCKER_HOST                   the engine it started
//	TFPILOT_TEST_GO_IMAGE         the build stage's GO_IMAGE
//	TFPILOT_TEST_POSTGRES_IMAGE   compose's TFPILOT_POSTGRES_IMAGE
//	TFPILOT_TEST_S3_IMAGE         compose's TFPILOT_S3_IMAGE
//	TFPILOT_TEST_COMPOSE          the docker-compose command (a path)
//	TFPILOT_TEST_DOCKER           the docker client (default: docker)
//
// Without them the tests skip with a message, or fail when
// TFPILOT_TEST_REQUIRE names docker.
package composetest
