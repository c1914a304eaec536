package server

import (
	"context"
	"encoding/json"
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// GetCost returns the request's infracost documents. A request without
// them answers available=false; an unknown request is NOT_FOUND.
func (s *requestService) GetCost(ctx context.Context, req *connect.Request[pb.GetCostRequest]) (*connect.Response[pb.GetCostResponse], error) {
	id := req.Msg.GetId()
	if err := requireID(id); err != nil {
		return nil, err
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.pilot.Cost(ctx, p, id)
	if errors.Is(err, tfpilot.ErrNotFound) {
		// The request or its cost documents: Get tells which.
		if _, gerr := s.pilot.Get(ctx, p, id); gerr != nil {
			return nil, s.fail(ctx, gerr)
		}
		return connect.NewResponse(&pb.GetCostResponse{}), nil
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &pb.GetCostResponse{Available: true}
	var fields map[string]any
	out.Estimate, fields = costDoc(c.Estimate)
	out.Currency, out.TotalMonthlyCost = costField(fields, "currency"), costField(fields, "totalMonthlyCost")
	var diff map[string]any
	out.Diff, diff = costDoc(c.Diff)
	out.DiffTotalMonthlyCost = costField(fields, "diffTotalMonthlyCost")
	if out.DiffTotalMonthlyCost == "" {
		out.DiffTotalMonthlyCost = costField(diff, "diffTotalMonthlyCost")
	}
	if out.Currency == "" {
		out.Currency = costField(diff, "currency")
	}
	return connect.NewResponse(out), nil
}

// costDoc decodes an infracost JSON document; a document that is absent
// or not a JSON object is nil.
func costDoc(b json.RawMessage) (*structpb.Struct, map[string]any) {
	if len(b) == 0 {
		return nil, nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil, nil
	}
	st, err := structpb.NewStruct(m)
	if err != nil {
		return nil, nil
	}
	return st, m
}

// costField returns a top-level string field of an infracost document
// (infracost writes money as decimal strings); a number is formatted as
// JSON writes it.
func costField(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case float64:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return ""
}

// ListDriftEligible returns a page of the requests a drift check should
// look at: live requests whose status is applied.
func (s *requestService) ListDriftEligible(ctx context.Context, req *connect.Request[pb.ListDriftEligibleRequest]) (*connect.Response[pb.ListDriftEligibleResponse], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	q := tfpilot.ListQuery{Project: m.GetProject(), Environment: m.GetEnvironment(), Cursor: m.GetPageToken()}
	switch size := m.GetPageSize(); {
	case size < 0:
		return nil, invalidArgument("invalid page_size", tfpilot.FieldViolation{Field: "page_size", Description: "must not be negative"})
	case size > tfpilot.MaxPageSize:
		return nil, invalidArgument("invalid page_size", tfpilot.FieldViolation{Field: "page_size", Description: "must be at most 500"})
	default:
		q.Limit = int(size)
	}
	page, err := s.pilot.DriftEligible(ctx, p, q)
	if errors.Is(err, tfpilot.ErrInvalid) && q.Cursor != "" {
		return nil, invalidArgument("invalid page token", tfpilot.FieldViolation{Field: "page_token",
			Description: "is not a next_page_token of an earlier answer with the same filters"})
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &pb.ListDriftEligibleResponse{NextPageToken: page.NextCursor}
	for _, v := range page.Requests {
		pr, err := viewToProto(v)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		trimForList(pr)
		out.Requests = append(out.Requests, pr)
	}
	return connect.NewResponse(out), nil
}

// StartDriftCheck dispatches the drift workflow for an applied request.
func (s *requestService) StartDriftCheck(ctx context.Context, req *connect.Request[pb.StartDriftCheckRequest]) (*connect.Response[pb.StartDriftCheckResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.StartDriftCheck)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.StartDriftCheckResponse{Request: out}), nil
}

// Cancel closes the request's pull request and archives the request. It
// answers the engine's View, which says the request is archived.
func (s *requestService) Cancel(ctx context.Context, req *connect.Request[pb.CancelRequest]) (*connect.Response[pb.CancelResponse], error) {
	cancel := func(ctx context.Context, c tfpilot.Caller, id string) (tfpilot.View, error) {
		return s.pilot.Cancel(ctx, c, id, req.Msg.GetReason())
	}
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), cancel)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.CancelResponse{Request: out}), nil
}
