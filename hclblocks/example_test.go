package hclblocks_test

import (
	"errors"
	"fmt"

	"github.com/tfpilot/tfpilot/hclblocks"
)

func Example() {
	src := []byte(`# Buckets of the reporting team. Edit freely outside tfpilot markers.
provider "aws" {
  region = "eu-west-1"
}
`)
	block, err := hclblocks.RenderModule(hclblocks.Module{
		Name:    "s3_bucket_req_abc123",
		Source:  "../../modules/s3-bucket",
		Version: "~> 2.0",
		Inputs: map[string]any{
			"bucket_name": "reports",
			"versioning":  true,
			"tags":        map[string]any{"team": "data", "cost-center": 42},
		},
	})
	if err != nil {
		fmt.Println("render:", err)
		return
	}
	out, err := hclblocks.Upsert(src, "req-abc123", block)
	if err != nil {
		fmt.Println("upsert:", err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// # Buckets of the reporting team. Edit freely outside tfpilot markers.
	// provider "aws" {
	//   region = "eu-west-1"
	// }
	//
	// # tfpilot:begin/req-abc123
	// module "s3_bucket_req_abc123" {
	//   source  = "../../modules/s3-bucket"
	//   version = "~> 2.0"
	//
	//   bucket_name = "reports"
	//   tags = {
	//     cost-center = 42
	//     team        = "data"
	//   }
	//   versioning = true
	// }
	// # tfpilot:end/req-abc123
}

func ExampleRemove() {
	src := []byte("locals {\n  env = \"dev\"\n}\n")
	withBlock, _ := hclblocks.Upsert(src, "req-1", []byte("module \"m\" {\n  source = \"./m\"\n}\n"))
	out, err := hclblocks.Remove(withBlock, "req-1")
	fmt.Println(err, string(out) == string(src))

	_, err = hclblocks.Remove(out, "req-1")
	fmt.Println(errors.Is(err, hclblocks.ErrNotFound))
	// Output:
	// <nil> true
	// true
}

func ExampleList() {
	src := []byte(`# tfpilot:begin/req-1
module "a" {
  source = "./a"
}
# tfpilot:end/req-1

resource "null_resource" "mine" {}

# tfpilot:begin/req-2
module "b" {
  source = "./b"
}
# tfpilot:end/req-2
`)
	regions, err := hclblocks.List(src)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range regions {
		fmt.Printf("%s lines %d-%d\n", r.ID, r.BeginLine, r.EndLine)
	}
	// Output:
	// req-1 lines 1-5
	// req-2 lines 9-13
}

func ExampleEditor_Upsert_errors() {
	src := []byte("# tfpilot:begin/req-1\nmodule \"a\" {\n  source = \"./a\"\n}\n")
	_, err := hclblocks.Upsert(src, "req-1", []byte("module \"a\" {\n  source = \"./b\"\n}\n"))

	var me *hclblocks.MarkerError
	if errors.As(err, &me) {
		fmt.Println(errors.Is(err, hclblocks.ErrUnclosedBegin), me.ID, me.Line)
	}
	// Output:
	// true req-1 1
}

func ExampleEditor() {
	ed := hclblocks.Editor{
		Markers: hclblocks.Markers{Begin: "// managed-by-portal start ", End: "// managed-by-portal stop "},
		Strict:  true,
	}
	out, err := ed.Upsert([]byte("variable \"x\" {}\n"), "r7", []byte("locals {\n  a = 1\n}\n"))
	fmt.Print(string(out), err, "\n")

	_, err = ed.Upsert([]byte("variable \"x\" {\n"), "r7", []byte("locals {}\n"))
	fmt.Println(errors.Is(err, hclblocks.ErrInvalidFile))
	// Output:
	// variable "x" {}
	//
	// // managed-by-portal start r7
	// locals {
	//   a = 1
	// }
	// // managed-by-portal stop r7
	// <nil>
	// true
}

func ExampleValidateID() {
	for _, id := range []string{"req-abc_123.v2", "../etc", "a b"} {
		fmt.Println(id, hclblocks.ValidateID(id) == nil)
	}
	// Output:
	// req-abc_123.v2 true
	// ../etc false
	// a b false
}
