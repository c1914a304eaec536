package server

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// BenchmarkJSONUnmarshal compares the server's JSON codec (protojson
// plus the enum-name check) with protojson alone, as Connect's default
// codec decodes, on a List request and on a Create with a 200-input
// config.
func BenchmarkJSONUnmarshal(b *testing.B) {
	var cfg []string
	for i := range 200 {
		cfg = append(cfg, fmt.Sprintf(`"input_%d":{"k":"value-%d","n":%d,"l":["a","b"]}`, i, i, i))
	}
	bodies := map[string]string{
		"list":   `{"project":"payments","statuses":["STATUS_APPLIED","STATUS_PLANNING"],"pageSize":20}`,
		"create": `{"project":"payments","environment":"dev","module":"s3_bucket","config":{` + strings.Join(cfg, ",") + `}}`,
	}
	for _, name := range []string{"list", "create"} {
		body := []byte(bodies[name])
		newMsg := func() proto.Message {
			if name == "list" {
				return &pb.ListRequest{}
			}
			return &pb.CreateRequest{}
		}
		b.Run(name+"/protojson", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				m := newMsg()
				if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/strict", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := jsonCodecs[0].Unmarshal(body, newMsg()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
