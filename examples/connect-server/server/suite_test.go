package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
)

// runSuite runs the end-to-end suite against stores made by newStore
// (one fresh store per test). Every backend runs the same suite.
func runSuite(t *testing.T, newStore func(t *testing.T) tfpilot.Store) {
	t.Run("LifecycleReachesAppliedAndArchivedWithWatchSeeingEachTransition", func(t *testing.T) {
		testLifecycle(t, newEnv(t, newStore(t), envOptions{}))
	})
	t.Run("WatchSeesWritesOfOtherProcessesByPolling", func(t *testing.T) {
		testWatchPolls(t, newEnv(t, newStore(t), envOptions{watchPoll: 50 * time.Millisecond}))
	})
	t.Run("EveryMethodRefusesMissingAndWrongTokens", func(t *testing.T) {
		testAuthEveryMethod(t, newEnv(t, newStore(t), envOptions{}))
	})
	t.Run("ViewersMayOnlyReadAndSync", func(t *testing.T) {
		testViewerEveryMethod(t, newEnv(t, newStore(t), envOptions{}))
	})
	t.Run("EngineErrorsMapToConnectCodes", func(t *testing.T) {
		testErrorCodes(t, newEnv(t, newStore(t), envOptions{}))
	})
	t.Run("IdempotencyKeyReplaysTheFirstAnswer", func(t *testing.T) {
		testIdempotency(t, newEnv(t, newStore(t), envOptions{}))
	})
	t.Run("ListPagesWithoutRepeatsAndFilters", func(t *testing.T) {
		testList(t, newEnv(t, newStore(t), envOptions{}))
	})
}

// got returns the request a Connect answer carries, or the error.
func got[T any, PT interface {
	*T
	GetRequest() *pb.Request
}](res *connect.Response[T], err error) (*pb.Request, error) {
	if err != nil {
		return nil, err
	}
	return PT(res.Msg).GetRequest(), nil
}

// watcher collects a Watch stream's messages in the background.
type watcher struct {
	msgs chan *pb.WatchResponse
	done chan error
}

func (e *env) watch(ctx context.Context, id string) *watcher {
	e.t.Helper()
	stream, err := e.admin.Watch(ctx, connect.NewRequest(&pb.WatchRequest{Id: id}))
	if err != nil {
		e.t.Fatalf("Watch: %v", err)
	}
	w := &watcher{msgs: make(chan *pb.WatchResponse, 100), done: make(chan error, 1)}
	go func() {
		defer close(w.msgs)
		for stream.Receive() {
			w.msgs <- stream.Msg()
		}
		w.done <- stream.Err()
		stream.Close()
	}()
	return w
}

// next waits for the stream's next message whose status is want,
// failing on any other status or after a timeout. It returns the events
// the skipped-over messages and this one carried.
func (w *watcher) next(t *testing.T, want pb.Status) (*pb.Request, []string) {
	t.Helper()
	var events []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				t.Fatalf("watch ended waiting for %s: %v", want, <-w.done)
			}
			for _, e := range m.GetEvents() {
				events = append(events, e.GetEvent())
			}
			switch got := m.GetRequest().GetStatus(); {
			case got == want:
				return m.GetRequest(), events
			case slices.Contains(statusOrder, got) && slices.Index(statusOrder, got) > slices.Index(statusOrder, want):
				t.Fatalf("watch skipped %s: got %s", want, got)
			}
			// An earlier status again (a write that did not move the
			// status, such as a run going in_progress): keep reading.
		case <-timeout:
			t.Fatalf("no %s on the watch stream within 10 s", want)
		}
	}
}

var statusOrder = []pb.Status{pb.Status_STATUS_REQUEST_CREATED, pb.Status_STATUS_PLANNING, pb.Status_STATUS_PLAN_READY,
	pb.Status_STATUS_APPROVED, pb.Status_STATUS_MERGED, pb.Status_STATUS_APPLYING, pb.Status_STATUS_APPLIED,
	pb.Status_STATUS_DESTROYING, pb.Status_STATUS_DESTROYED}

func testLifecycle(t *testing.T, e *env) {
	ctx := ctxT(t)
	created := e.create("payments-dev-reports")
	id := created.GetId()
	if created.GetStatus() != pb.Status_STATUS_PLANNING || created.GetPullRequest().GetNumber() == 0 || created.GetCommitSha() == "" {
		t.Fatalf("Create answered %v; want planning with a pull request and a commit", created)
	}
	if got := created.GetConfig().AsMap(); got["versioning"] != true {
		t.Errorf("config not normalised with defaults: %v", got)
	}
	w := e.watch(ctx, id)
	if _, evs := w.next(t, pb.Status_STATUS_PLANNING); !slices.Contains(evs, "request_created") || !slices.Contains(evs, "plan_dispatched") {
		t.Errorf("first watch message events = %v; want every event so far", evs)
	}

	approver := e.client(approverToken)
	steps := []struct {
		name string
		do   func() (*pb.Request, error)
		want pb.Status
	}{
		{"plan succeeds, sync", func() (*pb.Request, error) {
			e.finishRun(id, runs.Plan, "success")
			return e.sync(id), nil
		}, pb.Status_STATUS_PLAN_READY},
		{"approve", func() (*pb.Request, error) {
			return got(approver.Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id})))
		}, pb.Status_STATUS_APPROVED},
		{"merge", func() (*pb.Request, error) {
			return got(approver.Merge(ctx, connect.NewRequest(&pb.MergeRequest{Id: id})))
		}, pb.Status_STATUS_MERGED},
		{"apply", func() (*pb.Request, error) {
			return got(approver.Apply(ctx, connect.NewRequest(&pb.ApplyRequest{Id: id})))
		}, pb.Status_STATUS_APPLYING},
		{"apply succeeds, sync", func() (*pb.Request, error) {
			e.finishRun(id, runs.Apply, "success")
			return e.sync(id), nil
		}, pb.Status_STATUS_APPLIED},
		{"destroy", func() (*pb.Request, error) {
			return got(e.admin.Destroy(ctx, connect.NewRequest(&pb.DestroyRequest{Id: id})))
		}, pb.Status_STATUS_DESTROYING},
		{"destroy succeeds, sync cleans up and archives", func() (*pb.Request, error) {
			e.finishRun(id, runs.Destroy, "success")
			return e.sync(id), nil
		}, pb.Status_STATUS_DESTROYED},
	}
	for _, s := range steps {
		r, err := s.do()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if r.GetStatus() != s.want {
			t.Fatalf("%s: answered status %s, want %s", s.name, r.GetStatus(), s.want)
		}
		w.next(t, s.want)
	}
	// The archived request is the stream's last message.
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("watch ended with %v, want a clean end after archiving", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end after the request was archived")
	}
	got, err := e.admin.Get(ctx, connect.NewRequest(&pb.GetRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Msg.GetRequest(); !r.GetArchived() || r.GetCleanupPullRequest().GetNumber() == 0 {
		t.Errorf("after destroy: archived=%v cleanup PR=%v; want archived with a cleanup pull request", r.GetArchived(), r.GetCleanupPullRequest())
	}
	evs, err := e.admin.ListEvents(ctx, connect.NewRequest(&pb.ListEventsRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs.Msg.GetEvents() {
		names = append(names, ev.GetEvent())
	}
	for _, want := range []string{"request_created", "pr_opened", "plan_dispatched", "plan_completed", "request_approved",
		"pr_merged", "apply_dispatched", "apply_completed", "destroy_dispatched", "destroy_completed", "request_archived"} {
		if !slices.Contains(names, want) {
			t.Errorf("events %v lack %s", names, want)
		}
	}
	ins, err := e.insights.GetInsights(ctx, connect.NewRequest(&pb.GetInsightsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if ins.Msg.GetInsights().GetGeneratedAt() == nil {
		t.Errorf("insights without generated_at: %v", ins.Msg)
	}
}

func testWatchPolls(t *testing.T, e *env) {
	ctx := ctxT(t)
	id := e.create("payments-dev-polled").GetId()
	w := e.watch(ctx, id)
	first, _ := w.next(t, pb.Status_STATUS_PLANNING)
	// Another process writes to the shared store: no hub hears of it.
	r, err := e.store.GetRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r.Approval = &tfpilot.Approval{Approved: false, Approvers: []string{"someone-elsewhere"}}
	if _, err := e.store.UpdateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-w.msgs:
		if m.GetRequest().GetVersion() <= first.GetVersion() || !slices.Contains(m.GetRequest().GetApproval().GetApprovers(), "someone-elsewhere") {
			t.Errorf("watch sent %v; want the other process's write", m.GetRequest())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not pick up a write made behind the hub's back")
	}
}

// methods lists every method of the services the server registers
// (server.Services, health and reflection aside), from their
// descriptors, so that a method or service added to the API is tested
// here.
func methods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, name := range server.Services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			panic(fmt.Sprintf("service %s has no descriptor: %v", name, err))
		}
		ms := d.(protoreflect.ServiceDescriptor).Methods()
		for j := range ms.Len() {
			out = append(out, ms.Get(j))
		}
	}
	return out
}

// call invokes method md with the given token, the request's "id" set
// to id where the input has one, and returns the error.
func (e *env) call(ctx context.Context, md protoreflect.MethodDescriptor, token, id string, opts ...connect.ClientOption) error {
	init := func(spec connect.Spec, msg any) error {
		if m, ok := msg.(*dynamicpb.Message); ok {
			*m = *dynamicpb.NewMessage(md.Output())
		}
		return nil
	}
	url := fmt.Sprintf("%s/%s/%s", e.url, md.Parent().FullName(), md.Name())
	opts = append(opts, connect.WithSchema(md), connect.WithResponseInitializer(init))
	client := connect.NewClient[dynamicpb.Message, dynamicpb.Message](e.httpClient(token), url, opts...)
	in := dynamicpb.NewMessage(md.Input())
	if f := md.Input().Fields().ByName("id"); f != nil {
		in.Set(f, protoreflect.ValueOfString(id))
	}
	if f := md.Input().Fields().ByName("name"); f != nil {
		in.Set(f, protoreflect.ValueOfString("s3_bucket")) // a module (CatalogService.GetModule)
	}
	if md.IsStreamingServer() {
		stream, err := client.CallServerStream(ctx, connect.NewRequest(in))
		if err != nil {
			return err
		}
		defer stream.Close()
		if stream.Receive() {
			return nil
		}
		return stream.Err()
	}
	_, err := client.CallUnary(ctx, connect.NewRequest(in))
	return err
}

func testAuthEveryMethod(t *testing.T, e *env) {
	ctx := ctxT(t)
	id := e.create("payments-dev-auth").GetId()
	protocols := map[string][]connect.ClientOption{"connect": nil, "grpc-web": {connect.WithGRPCWeb()}, "connect-json": {connect.WithProtoJSON()}}
	for _, md := range methods() {
		for proto, opts := range protocols {
			for _, token := range []string{"", "wrong-token-0123456789", adminToken[:len(adminToken)-1]} {
				err := e.call(ctx, md, token, id, opts...)
				if c := codeOf(t, err); c != connect.CodeUnauthenticated {
					t.Errorf("%s over %s with token %q: code %s, want unauthenticated", md.FullName(), proto, token, c)
				}
				if strings.Contains(err.Error(), "not found") {
					t.Errorf("%s: an unauthenticated caller learned whether the request exists: %v", md.FullName(), err)
				}
			}
		}
		if err := e.call(ctx, md, adminToken, id); err != nil && codeOf(t, err) == connect.CodeUnauthenticated {
			t.Errorf("%s: the admin token was refused: %v", md.FullName(), err)
		}
	}
}

func testViewerEveryMethod(t *testing.T, e *env) {
	ctx := ctxT(t)
	id := e.create("payments-dev-viewer").GetId()
	// What a viewer may call, by method name. Every method must be here.
	viewerMay := map[protoreflect.Name]bool{
		"Get": true, "List": true, "ListEvents": true, "Watch": true, "Sync": true, "GetInsights": true,
		"ListModules": true, "GetModule": true, "ListTargets": true, "ListPolicies": true,
		"Create": false, "UpdateConfig": false, "Plan": false, "Approve": false, "Merge": false, "Apply": false, "Destroy": false,
		"GetCost": true, "ListDriftEligible": true, "StartDriftCheck": false, "Cancel": false,
	}
	for _, md := range methods() {
		may, listed := viewerMay[md.Name()]
		if !listed {
			t.Errorf("method %s is not in the viewer table: decide what a viewer may do", md.FullName())
			continue
		}
		err := e.call(ctx, md, viewerToken, id)
		switch {
		case may && err != nil:
			t.Errorf("viewer %s: %v; want allowed", md.Name(), err)
		case !may && codeOf(t, err) != connect.CodePermissionDenied:
			t.Errorf("viewer %s: %v; want permission denied", md.Name(), err)
		}
	}
}

// badRequest returns the field violations of an INVALID_ARGUMENT error.
func badRequest(t *testing.T, err error) map[string]string {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a Connect error: %v", err)
	}
	out := map[string]string{}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			t.Fatal(derr)
		}
		if br, ok := v.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				out[fv.GetField()] = fv.GetDescription()
			}
		}
	}
	return out
}

func testErrorCodes(t *testing.T, e *env) {
	ctx := ctxT(t)
	id := e.create("payments-dev-errors").GetId()
	developer := e.client(developerToken)
	locked := e.create("payments-dev-locked").GetId()
	e.finishRun(locked, runs.Plan, "success")
	e.sync(locked)
	r, err := e.store.GetRequest(ctx, locked)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lock, err = lock.Acquire(nil, "someone-else", "apply", time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	badCfg, _ := structpb.NewStruct(map[string]any{"bucket": "Not Valid", "colour": "blue"})

	cases := []struct {
		name       string
		call       func() error
		want       connect.Code
		violations []string // fields of the BadRequest detail
	}{
		{"unknown request is not found", func() error {
			_, err := e.admin.Get(ctx, connect.NewRequest(&pb.GetRequest{Id: "req-doesnotexist"}))
			return err
		}, connect.CodeNotFound, nil},
		{"empty id is an invalid argument on id", func() error {
			_, err := e.admin.Plan(ctx, connect.NewRequest(&pb.PlanRequest{}))
			return err
		}, connect.CodeInvalidArgument, []string{"id"}},
		{"bad config lists every field", func() error {
			_, err := e.admin.Create(ctx, connect.NewRequest(&pb.CreateRequest{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: badCfg}))
			return err
		}, connect.CodeInvalidArgument, []string{"config.bucket", "config.colour"}},
		{"unknown module", func() error {
			_, err := e.admin.Create(ctx, connect.NewRequest(&pb.CreateRequest{Project: "payments", Environment: "dev", Module: "nope"}))
			return err
		}, connect.CodeInvalidArgument, []string{"module"}},
		{"unknown list status", func() error {
			_, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{Statuses: []pb.Status{pb.Status_STATUS_UNSPECIFIED}}))
			return err
		}, connect.CodeInvalidArgument, []string{"statuses"}},
		{"a forged page token is an invalid argument on page_token", func() error {
			_, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{PageToken: "not-a-token"}))
			return err
		}, connect.CodeInvalidArgument, []string{"page_token"}},
		{"merge before approval is a failed precondition", func() error {
			_, err := e.admin.Merge(ctx, connect.NewRequest(&pb.MergeRequest{Id: id}))
			return err
		}, connect.CodeFailedPrecondition, nil},
		{"approve while the plan runs is a failed precondition", func() error {
			_, err := e.client(approverToken).Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id}))
			return err
		}, connect.CodeFailedPrecondition, nil},
		{"a locked request aborts", func() error {
			_, err := e.admin.UpdateConfig(ctx, connect.NewRequest(&pb.UpdateConfigRequest{Id: locked, Config: badCfgFixed()}))
			return err
		}, connect.CodeAborted, nil},
		{"the requester may not approve their own request", func() error {
			_, err := e.admin.Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id}))
			return err
		}, connect.CodePermissionDenied, nil},
		{"developer may not approve", func() error {
			_, err := developer.Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id}))
			return err
		}, connect.CodePermissionDenied, nil},
		{"production needs the allow-list", func() error {
			_, err := developer.Create(ctx, connect.NewRequest(createMsg("prod", "payments-prod-x")))
			return err
		}, connect.CodePermissionDenied, nil},
		{"oversized idempotency key", func() error {
			req := connect.NewRequest(&pb.PlanRequest{Id: id})
			req.Header().Set(server.IdempotencyKeyHeader, strings.Repeat("k", 201))
			_, err := e.admin.Plan(ctx, req)
			return err
		}, connect.CodeInvalidArgument, []string{server.IdempotencyKeyHeader}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if got := codeOf(t, err); got != c.want {
				t.Fatalf("code %s (%v), want %s", got, err, c.want)
			}
			if len(c.violations) > 0 {
				got := badRequest(t, err)
				for _, f := range c.violations {
					if got[f] == "" {
						t.Errorf("BadRequest detail %v lacks field %s", got, f)
					}
				}
			}
		})
	}
}

func badCfgFixed() *structpb.Struct {
	s, _ := structpb.NewStruct(map[string]any{"bucket": "payments-dev-locked2"})
	return s
}

func testIdempotency(t *testing.T, e *env) {
	ctx := ctxT(t)
	create := func(key, bucket string) (*pb.Request, error) {
		req := connect.NewRequest(createMsg("dev", bucket))
		req.Header().Set(server.IdempotencyKeyHeader, key)
		return got(e.admin.Create(ctx, req))
	}
	first, err := create("key-1", "payments-dev-idem")
	if err != nil {
		t.Fatal(err)
	}
	again, err := create("key-1", "payments-dev-idem")
	if err != nil {
		t.Fatal(err)
	}
	if again.GetId() != first.GetId() {
		t.Errorf("a repeated create made request %s after %s", again.GetId(), first.GetId())
	}
	page, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(page.Msg.GetRequests()); n != 1 {
		t.Errorf("%d requests after a repeated create, want 1", n)
	}
	_, err = create("key-1", "payments-dev-other")
	if c := codeOf(t, err); c != connect.CodeInvalidArgument || badRequest(t, err)[server.IdempotencyKeyHeader] == "" {
		t.Errorf("key reused with another body: %v; want invalid argument on %s", err, server.IdempotencyKeyHeader)
	}
	// Every mutation repeated with its key answers its first answer and
	// does nothing more: walk the lifecycle calling each one twice.
	id := first.GetId()
	keyed := func(key string, req interface{ Header() http.Header }) {
		req.Header().Set(server.IdempotencyKeyHeader, key)
	}
	cfg, _ := structpb.NewStruct(map[string]any{"bucket": "payments-dev-idem", "versioning": false})
	approver := e.client(approverToken)
	steps := []struct {
		method protoreflect.Name
		before func()
		call   func(key string) (*pb.Request, error)
	}{
		{"UpdateConfig", func() { e.finishRun(id, runs.Plan, "success"); e.sync(id) }, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.UpdateConfigRequest{Id: id, Config: cfg})
			keyed(key, req)
			return got(e.admin.UpdateConfig(ctx, req))
		}},
		{"Plan", func() { e.finishRun(id, runs.Plan, "success"); e.sync(id) }, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.PlanRequest{Id: id})
			keyed(key, req)
			return got(e.admin.Plan(ctx, req))
		}},
		{"Approve", func() { e.finishRun(id, runs.Plan, "success"); e.sync(id) }, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.ApproveRequest{Id: id})
			keyed(key, req)
			return got(approver.Approve(ctx, req))
		}},
		{"Merge", nil, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.MergeRequest{Id: id})
			keyed(key, req)
			return got(approver.Merge(ctx, req))
		}},
		{"Apply", nil, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.ApplyRequest{Id: id})
			keyed(key, req)
			return got(approver.Apply(ctx, req))
		}},
		{"StartDriftCheck", func() { e.finishRun(id, runs.Apply, "success"); e.sync(id) }, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.StartDriftCheckRequest{Id: id})
			keyed(key, req)
			return got(e.admin.StartDriftCheck(ctx, req))
		}},
		{"Destroy", nil, func(key string) (*pb.Request, error) {
			req := connect.NewRequest(&pb.DestroyRequest{Id: id})
			keyed(key, req)
			return got(e.admin.Destroy(ctx, req))
		}},
	}
	// Cancel, on a request of its own (a merged one cannot be cancelled).
	cancelled := e.create("payments-dev-idem-cancel").GetId()
	steps = append([]struct {
		method protoreflect.Name
		before func()
		call   func(key string) (*pb.Request, error)
	}{{"Cancel", nil, func(key string) (*pb.Request, error) {
		req := connect.NewRequest(&pb.CancelRequest{Id: cancelled, Reason: "idem"})
		keyed(key, req)
		return got(e.admin.Cancel(ctx, req))
	}}}, steps...)
	tested := map[protoreflect.Name]bool{"Create": true}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		key := "key-" + string(st.method)
		a, err := st.call(key)
		if err != nil {
			t.Fatalf("%s: %v", st.method, err)
		}
		b, err := st.call(key)
		if err != nil {
			t.Fatalf("%s repeated with its key: %v", st.method, err)
		}
		if a.GetVersion() != b.GetVersion() || len(a.GetRuns()) != len(b.GetRuns()) {
			t.Errorf("%s repeated with its key answered version %d with %d runs after version %d with %d runs",
				st.method, b.GetVersion(), len(b.GetRuns()), a.GetVersion(), len(a.GetRuns()))
		}
		tested[st.method] = true
		if a.GetArchived() {
			continue // Cancel: the request is in history, its runs as they were
		}
		stored, err := e.store.GetRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(stored.Runs.Plan.Attempts) + len(stored.Runs.Apply.Attempts) + len(stored.Runs.Destroy.Attempts); n != len(a.GetRuns()) {
			t.Errorf("%s repeated with its key dispatched again: %d runs, want %d", st.method, n, len(a.GetRuns()))
		}
		tested[st.method] = true
	}
	// Every method that changes something is covered (reads and Sync,
	// which is idempotent by nature, are not mutations here).
	for _, md := range methods() {
		level := md.Options().(*descriptorpb.MethodOptions).GetIdempotencyLevel()
		if level != descriptorpb.MethodOptions_NO_SIDE_EFFECTS && md.Name() != "Sync" && !tested[md.Name()] {
			t.Errorf("mutation %s has no idempotency-key check here", md.FullName())
		}
	}
}

func testList(t *testing.T, e *env) {
	ctx := ctxT(t)
	want := map[string]bool{}
	for i := range 5 {
		want[e.create(fmt.Sprintf("payments-dev-list-%d", i)).GetId()] = true
	}
	seen := map[string]bool{}
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		res, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{PageSize: 2, PageToken: token, Project: "payments",
			Statuses: []pb.Status{pb.Status_STATUS_PLANNING}}))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Msg.GetRequests() {
			if seen[r.GetId()] {
				t.Errorf("request %s listed twice", r.GetId())
			}
			seen[r.GetId()] = true
		}
		if token = res.Msg.GetNextPageToken(); token == "" {
			break
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("request %s never listed", id)
		}
	}
	res, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{Environment: "prod"}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Msg.GetRequests()); n != 0 {
		t.Errorf("environment filter: %d prod requests listed, want 0", n)
	}
}
