package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"
)

// startContainerPostgres runs one PostgreSQL container for the test
// binary when a Docker engine answers. It is terminated by [Main], or,
// when the binary dies first and the docker CLI is installed, by a
// watchdog (CI runs with Ryuk, testcontainers' own reaper, disabled).
func startContainerPostgres() (*pgServer, error) {
	if err := dockerAnswers(); err != nil {
		return nil, err
	}
	image := os.Getenv(EnvPostgresImage)
	if image == "" {
		image = DefaultPostgresImage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctr, err := tcpostgres.Run(ctx, image,
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.WithDatabase("postgres"),
		// Ready means answering SQL over the mapped port. This holds for
		// the official image (whose init-time server listens on no TCP
		// port) and for a locally built one that logs differently, where
		// tcpostgres.BasicWaitStrategies' "ready" log counted twice would not.
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute,
			wait.ForSQL("5432/tcp", "pgx", func(host string, port network.Port) string {
				return "postgres://postgres:postgres@" + net.JoinHostPort(host, port.Port()) + "/postgres?sslmode=disable"
			}).WithPollInterval(200*time.Millisecond),
		),
	)
	if ctr != nil {
		var watchdog *exec.Cmd
		if docker, err := exec.LookPath("docker"); err == nil {
			watchdog, _ = startWatchdog(fmt.Sprintf("'%s' rm -f -v %s >/dev/null 2>&1", docker, ctr.GetContainerID()))
		}
		onStop(func() error {
			err := testcontainers.TerminateContainer(ctr)
			if watchdog != nil {
				_ = watchdog.Process.Kill()
				_ = watchdog.Wait()
			}
			if err != nil {
				return fmt.Errorf("terminate postgres container: %w", err)
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", image, err)
	}
	dsn, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return nil, fmt.Errorf("connection string of %s: %w", image, err)
	}
	return connectServer(ProviderContainers, dsn)
}

// dockerAnswers reports whether testcontainers can reach a Docker
// engine, the way testcontainers.SkipIfProviderIsNotHealthy decides, but
// as an error instead of a skip. Without DOCKER_HOST, a socket or a
// testcontainers configuration it does not ask, which keeps a machine
// without Docker fast and quiet.
func dockerAnswers() (err error) {
	home, _ := os.UserHomeDir()
	if os.Getenv("DOCKER_HOST") == "" && !exists("/var/run/docker.sock") && !exists(filepath.Join(home, ".testcontainers.properties")) {
		return errors.New("no Docker engine (DOCKER_HOST unset, no /var/run/docker.sock)")
	}
	defer func() {
		if r := recover(); r != nil { // testcontainers panics on some misconfigurations
			err = fmt.Errorf("docker provider: %v", r)
		}
	}()
	p, err := testcontainers.ProviderDocker.GetProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return fmt.Errorf("docker provider: %w", err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Health(ctx); err != nil {
		return fmt.Errorf("docker engine does not answer: %w", err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
