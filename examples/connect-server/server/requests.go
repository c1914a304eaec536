package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// IdempotencyKeyHeader carries the idempotency key of a mutation. A
// repeat with the same key and the same body is answered with the first
// answer and does nothing; the same key with another body is
// INVALID_ARGUMENT.
const IdempotencyKeyHeader = "Idempotency-Key"

// MaxIdempotencyKeyLength bounds the idempotency key.
const MaxIdempotencyKeyLength = 200

// requestService implements tfpilotv1connect.RequestServiceHandler.
type requestService struct {
	pilot   *tfpilot.Pilot
	hub     *Hub
	log     *slog.Logger
	poll    time.Duration
	metrics *metrics
}

func (s *requestService) fail(ctx context.Context, err error) error {
	return ConnectError(ctx, s.log, err)
}

// principal returns the authenticated principal. The auth interceptor
// guarantees one; its absence is a wiring bug reported as
// UNAUTHENTICATED rather than acted on.
func principal(ctx context.Context) (tfpilot.Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return tfpilot.Principal{}, connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	}
	return p, nil
}

// caller returns the principal and the idempotency key of a mutation.
func caller(ctx context.Context, h http.Header) (tfpilot.Caller, error) {
	p, err := principal(ctx)
	if err != nil {
		return tfpilot.Caller{}, err
	}
	key := h.Get(IdempotencyKeyHeader)
	if len(key) > MaxIdempotencyKeyLength {
		return tfpilot.Caller{}, invalidArgument("invalid idempotency key",
			tfpilot.FieldViolation{Field: IdempotencyKeyHeader, Description: "must be at most 200 characters"})
	}
	for _, c := range key {
		if c < 0x21 || c > 0x7e {
			return tfpilot.Caller{}, invalidArgument("invalid idempotency key",
				tfpilot.FieldViolation{Field: IdempotencyKeyHeader, Description: "must be printable ASCII without spaces"})
		}
	}
	return tfpilot.Caller{Principal: p, IdempotencyKey: key}, nil
}

func requireID(id string) error {
	if id == "" {
		return invalidArgument("id is required", tfpilot.FieldViolation{Field: "id", Description: "is required"})
	}
	return nil
}

// answer converts the engine's answer to a mutation: a [tfpilot.View]
// as of the moment the engine answered (an archiving Sync or Cancel says
// archived), so no second read is needed.
func (s *requestService) answer(ctx context.Context, v tfpilot.View) (*pb.Request, error) {
	out, err := viewToProto(v)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return out, nil
}

// mutate runs one of the engine's id-only operations.
func (s *requestService) mutate(ctx context.Context, h http.Header, id string,
	op func(context.Context, tfpilot.Caller, string) (tfpilot.View, error)) (*pb.Request, error) {
	if err := requireID(id); err != nil {
		return nil, err
	}
	c, err := caller(ctx, h)
	if err != nil {
		return nil, err
	}
	v, err := op(ctx, c, id)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return s.answer(ctx, v)
}

func (s *requestService) Create(ctx context.Context, req *connect.Request[pb.CreateRequest]) (*connect.Response[pb.CreateResponse], error) {
	c, err := caller(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	m := req.Msg
	r, err := s.pilot.Create(ctx, c, tfpilot.CreateInput{Project: m.GetProject(), Environment: m.GetEnvironment(),
		Module: m.GetModule(), Config: m.GetConfig().AsMap()})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := s.answer(ctx, r)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.CreateResponse{Request: out}), nil
}

func (s *requestService) Get(ctx context.Context, req *connect.Request[pb.GetRequest]) (*connect.Response[pb.GetResponse], error) {
	if err := requireID(req.Msg.GetId()); err != nil {
		return nil, err
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.pilot.Get(ctx, p, req.Msg.GetId())
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := viewToProto(v)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return connect.NewResponse(&pb.GetResponse{Request: out}), nil
}

func (s *requestService) List(ctx context.Context, req *connect.Request[pb.ListRequest]) (*connect.Response[pb.ListResponse], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	q := tfpilot.ListQuery{Project: m.GetProject(), Environment: m.GetEnvironment(), Cursor: m.GetPageToken()}
	var bad []tfpilot.FieldViolation
	switch size := m.GetPageSize(); {
	case size < 0:
		bad = append(bad, tfpilot.FieldViolation{Field: "page_size", Description: "must not be negative"})
	case size > tfpilot.MaxPageSize:
		bad = append(bad, tfpilot.FieldViolation{Field: "page_size", Description: "must be at most 500"})
	default:
		q.Limit = int(size)
	}
	for _, st := range m.GetStatuses() {
		ls, ok := statusFromProto(st)
		if !ok {
			bad = append(bad, tfpilot.FieldViolation{Field: "statuses", Description: "must name known statuses, not " + st.String()})
			continue
		}
		q.Statuses = append(q.Statuses, ls)
	}
	if len(bad) > 0 {
		return nil, invalidArgument("invalid argument: "+summary(bad), bad...)
	}
	if q.Cursor, err = unbindPageToken(m); err != nil {
		return nil, err
	}
	page, err := s.pilot.List(ctx, p, q)
	if errors.Is(err, tfpilot.ErrInvalid) && q.Cursor != "" {
		return nil, invalidArgument("invalid page token", tfpilot.FieldViolation{Field: "page_token",
			Description: "is not a next_page_token of an earlier answer with the same filters"})
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &pb.ListResponse{NextPageToken: bindPageToken(m, page.NextCursor)}
	for _, v := range page.Requests {
		pr, err := viewToProto(v)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		trimForList(pr) // convert.go
		out.Requests = append(out.Requests, pr)
	}
	return connect.NewResponse(out), nil
}

func (s *requestService) UpdateConfig(ctx context.Context, req *connect.Request[pb.UpdateConfigRequest]) (*connect.Response[pb.UpdateConfigResponse], error) {
	cfg := req.Msg.GetConfig().AsMap()
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), func(ctx context.Context, c tfpilot.Caller, id string) (tfpilot.View, error) {
		return s.pilot.UpdateConfig(ctx, c, id, cfg)
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.UpdateConfigResponse{Request: out}), nil
}

func (s *requestService) Plan(ctx context.Context, req *connect.Request[pb.PlanRequest]) (*connect.Response[pb.PlanResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.Plan)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.PlanResponse{Request: out}), nil
}

func (s *requestService) Approve(ctx context.Context, req *connect.Request[pb.ApproveRequest]) (*connect.Response[pb.ApproveResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.Approve)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.ApproveResponse{Request: out}), nil
}

func (s *requestService) Merge(ctx context.Context, req *connect.Request[pb.MergeRequest]) (*connect.Response[pb.MergeResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.Merge)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.MergeResponse{Request: out}), nil
}

func (s *requestService) Apply(ctx context.Context, req *connect.Request[pb.ApplyRequest]) (*connect.Response[pb.ApplyResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.Apply)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.ApplyResponse{Request: out}), nil
}

func (s *requestService) Destroy(ctx context.Context, req *connect.Request[pb.DestroyRequest]) (*connect.Response[pb.DestroyResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.Destroy)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.DestroyResponse{Request: out}), nil
}

// Sync answers the engine's View: a Sync that archived the request says
// so.
func (s *requestService) Sync(ctx context.Context, req *connect.Request[pb.SyncRequest]) (*connect.Response[pb.SyncResponse], error) {
	out, err := s.mutate(ctx, req.Header(), req.Msg.GetId(), s.pilot.Sync)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.SyncResponse{Request: out}), nil
}

func (s *requestService) ListEvents(ctx context.Context, req *connect.Request[pb.ListEventsRequest]) (*connect.Response[pb.ListEventsResponse], error) {
	if err := requireID(req.Msg.GetId()); err != nil {
		return nil, err
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	evs, err := s.pilot.Events(ctx, p, req.Msg.GetId())
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := eventsToProto(evs)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return connect.NewResponse(&pb.ListEventsResponse{Events: out}), nil
}

// Watch sends the request, then waits for a change signal from the hub
// (writes in this process) or the poll timer (writes by other processes
// sharing the store, and status changes that come with time), re-reads
// the request and its events, and sends them when anything changed. It
// never polls faster than the hub signals or the poll interval.
func (s *requestService) Watch(ctx context.Context, req *connect.Request[pb.WatchRequest], stream *connect.ServerStream[pb.WatchResponse]) error {
	id := req.Msg.GetId()
	if err := requireID(id); err != nil {
		return err
	}
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	sub := s.hub.Subscribe(id) // before the first read: no change is missed
	defer sub.Close()
	s.metrics.watchers.Inc()
	defer s.metrics.watchers.Dec()

	var (
		last    *pb.Request
		seen    = map[string]bool{}
		poll    = time.NewTicker(s.poll)
		started bool
	)
	defer poll.Stop()
	for {
		v, err := s.pilot.Get(ctx, p, id)
		if err != nil {
			if started && ctx.Err() != nil {
				return nil
			}
			return s.fail(ctx, err)
		}
		evs, err := s.pilot.Events(ctx, p, id)
		if err != nil {
			return s.fail(ctx, err)
		}
		cur, err := viewToProto(v)
		if err != nil {
			return s.fail(ctx, err)
		}
		msg := &pb.WatchResponse{Request: cur}
		for _, e := range evs {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			pe, err := eventToProto(e)
			if err != nil {
				return s.fail(ctx, err)
			}
			msg.Events = append(msg.Events, pe)
		}
		if !started || changed(last, cur) || len(msg.Events) > 0 {
			if err := stream.Send(msg); err != nil {
				return nil // the client went away
			}
			s.metrics.watchSends.Inc()
			started, last = true, cur
		}
		if cur.GetArchived() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.hub.Done():
			return connect.NewError(connect.CodeUnavailable, errors.New("the server is shutting down; watch again"))
		case <-sub.C:
		case <-poll.C:
		}
	}
}

// changed reports whether a client would see a difference: a new write
// (version), a status that moved with time, or archiving.
func changed(prev, cur *pb.Request) bool {
	return prev == nil || prev.GetVersion() != cur.GetVersion() || prev.GetStatus() != cur.GetStatus() ||
		prev.GetArchived() != cur.GetArchived()
}

// insightsService implements tfpilotv1connect.InsightsServiceHandler.
type insightsService struct {
	pilot *tfpilot.Pilot
	log   *slog.Logger
}

func (s *insightsService) GetInsights(ctx context.Context, _ *connect.Request[pb.GetInsightsRequest]) (*connect.Response[pb.GetInsightsResponse], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	in, err := s.pilot.Insights(ctx, p)
	if err != nil {
		return nil, ConnectError(ctx, s.log, err)
	}
	return connect.NewResponse(&pb.GetInsightsResponse{Insights: insightsToProto(in)}), nil
}
