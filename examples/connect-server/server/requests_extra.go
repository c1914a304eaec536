package server

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// errNotYet answers the RPCs whose handlers are not wired yet.
var errNotYet = errors.New("not implemented yet")

// GetCost returns the request's infracost documents.
func (s *requestService) GetCost(ctx context.Context, req *connect.Request[pb.GetCostRequest]) (*connect.Response[pb.GetCostResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errNotYet)
}

// ListDriftEligible returns a page of the requests a drift check should
// look at.
func (s *requestService) ListDriftEligible(ctx context.Context, req *connect.Request[pb.ListDriftEligibleRequest]) (*connect.Response[pb.ListDriftEligibleResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errNotYet)
}

// StartDriftCheck dispatches the drift workflow for an applied request.
func (s *requestService) StartDriftCheck(ctx context.Context, req *connect.Request[pb.StartDriftCheckRequest]) (*connect.Response[pb.StartDriftCheckResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errNotYet)
}

// Cancel closes the request's pull request and archives the request.
func (s *requestService) Cancel(ctx context.Context, req *connect.Request[pb.CancelRequest]) (*connect.Response[pb.CancelResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errNotYet)
}
