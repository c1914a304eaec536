package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// errDraining is why a draining server is not ready.
var errDraining = errors.New("draining")

// readiness reports why the server should get no calls now: it drains,
// or Options.Ready fails (checked with a 2 s bound). nil means ready.
// /readyz and gRPC health both answer from it.
func (s *Server) readiness(ctx context.Context) error {
	if s.draining.Load() {
		return errDraining
	}
	if s.opts.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.opts.Ready(ctx)
}

// healthChecker answers grpc.health.v1 from [Server.readiness]: SERVING
// while the server is ready, NOT_SERVING while /readyz fails or the
// server drains, for the whole process ("") and for each of [Services].
type healthChecker struct{ s *Server }

func (h healthChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && !slices.Contains(Services, req.Service) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %s", req.Service))
	}
	if err := h.s.readiness(ctx); err != nil {
		if !errors.Is(err, errDraining) {
			h.s.log.WarnContext(ctx, "not ready", "request_id", RequestID(ctx), "err", err)
		}
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}
