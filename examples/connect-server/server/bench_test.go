package server_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// BenchmarkGet measures one authenticated Get over loopback HTTP/1.1, per
// protocol: the server's overhead (auth, logging, metrics, conversion)
// over a memstore read.
func BenchmarkGet(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []connect.ClientOption
	}{{"connect-proto", nil}, {"connect-json", []connect.ClientOption{connect.WithProtoJSON()}}, {"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newBenchEnv(b)
			id := e.create("payments-dev-bench").GetId()
			client := e.client(adminToken, bc.opts...)
			req := connect.NewRequest(&pb.GetRequest{Id: id})
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := client.Get(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWatch_ChangeToMessage measures the time from a published
// store write to the Watch message that reports it.
func BenchmarkWatch_ChangeToMessage(b *testing.B) {
	e := newBenchEnv(b)
	id := e.create("payments-dev-watchbench").GetId()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := e.admin.Watch(ctx, connect.NewRequest(&pb.WatchRequest{Id: id}))
	if err != nil {
		b.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		b.Fatal(stream.Err())
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := e.store.GetRequest(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		r.Config["versioning"] = !r.Config["versioning"].(bool)
		if _, err := e.store.UpdateRequest(ctx, r); err != nil {
			b.Fatal(err)
		}
		e.hub.Publish(id) // what the Notify decorator does after the write
		if !stream.Receive() {
			b.Fatal(stream.Err())
		}
	}
}

func newBenchEnv(b *testing.B) *env {
	return newEnv(b, memstore.New(nil), envOptions{})
}
