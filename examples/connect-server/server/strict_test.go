package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// TestJSON_UnknownEnumNameIsInvalidArgumentUnknownFieldIsNot: a status
// filter naming no status ("APPLIED" for STATUS_APPLIED) is refused, over
// Connect JSON (both content types) and gRPC-Web JSON, rather than
// dropped into "every status"; a field the server does not know is
// still accepted (clients built from a newer schema keep working).
func TestJSON_UnknownEnumNameIsInvalidArgumentUnknownFieldIsNot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	e.create("payments-dev-enum")
	list := e.url + "/tfpilot.v1.RequestService/List"
	for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
		hdr := map[string]string{"Content-Type": ct, "Authorization": "Bearer " + viewerToken}
		for _, c := range []struct {
			body string
			want int
		}{
			{`{"statuses":["APPLIED"]}`, http.StatusBadRequest},
			{`{"statuses":["STATUS_PLANNING","nope"]}`, http.StatusBadRequest},
			{`{"statuses":["STATUS_PLANNING"]}`, http.StatusOK},
			{`{"statuses":["STATUS_PLANNING"],"someFutureField":{"x":1}}`, http.StatusOK},
			{`{"project":"payments","page_size":5}`, http.StatusOK},
		} {
			res, body := httpDo(t, "POST", list, c.body, hdr)
			if res.StatusCode != c.want {
				t.Errorf("%s %s: %d %s, want %d", ct, c.body, res.StatusCode, body, c.want)
				continue
			}
			if c.want == http.StatusBadRequest {
				var ans struct{ Code, Message string }
				_ = json.Unmarshal([]byte(body), &ans)
				if ans.Code != "invalid_argument" || !strings.Contains(ans.Message, "statuses") {
					t.Errorf("%s: answer %s, want invalid_argument naming statuses", c.body, body)
				}
			}
		}
	}
	// The same through a Connect client speaking JSON: the codec is the
	// server's for every protocol.
	_, err := e.client(viewerToken, connect.WithProtoJSON(), connect.WithGRPCWeb()).List(ctxT(t),
		connect.NewRequest(&pb.ListRequest{Statuses: []pb.Status{pb.Status(99)}}))
	if c := codeOf(t, err); c != connect.CodeInvalidArgument {
		t.Errorf("an unknown status number: %s, want invalid_argument", c)
	}
}

// TestList_PageTokenIsBoundToItsFilters: a next_page_token continues the
// walk with the same filters (page size may change) and is
// invalid_argument with any other filters, or when it was not made by
// the server.
func TestList_PageTokenIsBoundToItsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	for _, b := range []string{"payments-dev-p1", "payments-dev-p2", "payments-dev-p3"} {
		e.create(b)
	}
	ctx := ctxT(t)
	first, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{Project: "payments", PageSize: 1}))
	if err != nil {
		t.Fatal(err)
	}
	token := first.Msg.GetNextPageToken()
	if token == "" {
		t.Fatal("no next page token")
	}
	if _, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{Project: "payments", PageSize: 2, PageToken: token})); err != nil {
		t.Fatalf("the token with the same filters and another page size: %v", err)
	}
	for name, q := range map[string]*pb.ListRequest{
		"no filter":         {PageToken: token},
		"other environment": {Project: "payments", Environment: "dev", PageToken: token},
		"other statuses":    {Project: "payments", Statuses: []pb.Status{pb.Status_STATUS_PLANNING}, PageToken: token},
		"forged":            {Project: "payments", PageToken: "abc." + token},
		"bare cursor":       {Project: "payments", PageToken: token[strings.Index(token, ".")+1:]},
	} {
		_, err := e.admin.List(ctx, connect.NewRequest(q))
		if c := codeOf(t, err); c != connect.CodeInvalidArgument {
			t.Errorf("%s: %s (%v), want invalid_argument", name, c, err)
			continue
		}
		if f := badRequest(t, err); f["page_token"] == "" {
			t.Errorf("%s: BadRequest %v does not name page_token", name, f)
		}
	}
}
