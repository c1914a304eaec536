package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

// treeSeeds are documents the one-pass tree code must read and write
// exactly as the old code did: the original system's request, and the
// shapes that are easy to get wrong.
func treeSeeds(t testing.TB) [][]byte {
	seed, err := os.ReadFile("testdata/seed-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, seed, " \r\n", "\t "); err != nil {
		t.Fatal(err)
	}
	seeds := [][]byte{seed, indented.Bytes(), messyLegacyDoc()}
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `null`, `  {"a":1}  `, "\xc2\xa0{}\xc2\x85", "\v{}\f",
		`{"a":1,"b":2,"a":3}`, `{"a":{"x":1},"b":0,"a":[2]}`, `{"\u0041":1,"A":2}`,
		`{"\ud800":1,"\udc00x":"\ud800"}`, "{\"\xff\xfe\":\"\xff\"}", `{"<>&\u2028":"<>&` + "\u2028\u2029" + `"}`,
		`{"a":1e400,"b":-0,"c":-0.0e-0,"d":123456789012345678901234567890,"e":1E+2}`,
		" { \"a\" :\t[ 1 ,\r\n 2 , { \"b\" : null } ] , \"c\" : \"\\\"\\\\\\/\\b\\f\\n\\r\\t\" } ",
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `{1:2}`, `{} {}`, `{}x`, `[] []`, `"a" "b"`, `01`, `1.`, `-`,
		`{"a":"\x01"}`, "{\"a\":\"\x01\"}", `{"a":tru}`, `{"a`, `[`, `"\u12"`, `{"a":[}`, "\xef\xbb\xbf{}",
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
		strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// messyLegacyDoc is a request document as the original system left some
// of them: unknown fields at several levels, a config stored as a JSON
// string, numbers written as strings, HTML characters and escapes in
// values, a duplicate key, indentation.
func messyLegacyDoc() []byte {
	return []byte(`{
  "id": "req_\u0031234", "project": "core", "environment": "prod",
  "module": "s3-bucket", "status": "applied", "version": "3",
  "config": "{\"bucket_name\":\"logs-<prod>&co\",\"tags\":{\"team\":\"platform\",\"cost\":\"12\"}}",
  "createdAt": 1700000000000, "updatedAt": "2024-01-02T03:04:05.000Z ",
  "pr": {"number": "42", "url": "https://github.com/o/r/pull/42", "merged": "true", "x-note": "\u2028line"},
  "runs": {"plan": {"currentAttempt": 2.0, "attempts": [
    {"attempt": 1, "runId": 9007199254740993, "status": "completed", "conclusion": "failure",
     "dispatchedAt": "", "completedAt": null, "legacyLogs": ["a", "b\n", {"deep": [1, 2, 3e2]}]},
    {"attempt": 2, "runId": "1234567890", "status": "completed", "conclusion": "success",
     "dispatchedAt": "2024-01-02T03:04:05Z", "completedAt": 1700000001}]}},
  "lock": {"holder": "apply", "expiresAt": "2024-01-02T03:14:05Z"},
  "approval": {"approved": "yes", "by": ["alice", "bob"], "notes": "ok \u003c\u003e"},
  "status": "complete",
  "unknownTop": {"nested": {"deeper": {"deepest": [null, true, false, -0, 1.5e-7]}}}
}`)
}

// checkTreeMatchesOracle fails unless parseTree and the old parseTree
// agree on whether b is valid and, when it is, build the same tree and
// treeJSON writes it as the old treeJSON did, byte for byte.
func checkTreeMatchesOracle(t *testing.T, b []byte) {
	t.Helper()
	got, err := parseTree(b)
	want, oerr := oracleParseTree(b)
	if (err == nil) != (oerr == nil) {
		t.Fatalf("parseTree(%.80q): error %v, old parseTree: error %v", b, err, oerr)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseTree(%.80q) = %#v, old parseTree = %#v", b, got, want)
	}
	gj, err := treeJSON(got)
	wj, oerr := oracleTreeJSON(want)
	if err != nil || oerr != nil {
		t.Fatalf("treeJSON(%.80q): %v, old treeJSON: %v", b, err, oerr)
	}
	if !bytes.Equal(gj, wj) {
		t.Fatalf("treeJSON(parseTree(%.80q))\n got %q\nwant %q", b, gj, wj)
	}
	if !sameTree(got, want) {
		t.Fatalf("sameTree(parseTree(%.80q), old parseTree) = false", b)
	}
}

func TestParseTree_MatchesOracleOnSeeds(t *testing.T) {
	for i, b := range treeSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkTreeMatchesOracle(t, b) })
	}
}

// randomJSON writes a random JSON-ish text: mostly valid, with duplicate
// keys, escapes, HTML characters, odd numbers and whitespace; sometimes
// with one byte changed, so that invalid texts are tried too.
func randomJSON(r *rand.Rand, depth int, w *bytes.Buffer) {
	ws := func() {
		for r.IntN(3) == 0 {
			w.WriteByte(" \t\r\n"[r.IntN(4)])
		}
	}
	strs := []string{`"a"`, `"b"`, `"\u0041"`, `"A"`, `"<>&"`, "\"\u2028\u2029\"", `"\ud800"`, `"\udbff\udfff"`,
		"\"\xff\"", `"\"\\\/\b\f\n\r\t"`, `""`, `"é"`, `"\u00e9"`, `"x y"`}
	ws()
	switch k := r.IntN(10); {
	case depth > 0 && k < 3:
		w.WriteByte('{')
		for i, n := 0, r.IntN(5); i < n; i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			ws()
			w.WriteString(strs[r.IntN(len(strs))])
			ws()
			w.WriteByte(':')
			randomJSON(r, depth-1, w)
		}
		ws()
		w.WriteByte('}')
	case depth > 0 && k < 5:
		w.WriteByte('[')
		for i, n := 0, r.IntN(5); i < n; i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			randomJSON(r, depth-1, w)
		}
		ws()
		w.WriteByte(']')
	case k < 7:
		w.WriteString(strs[r.IntN(len(strs))])
	default:
		w.WriteString([]string{"0", "-0", "1e400", "-1.5E-3", "123456789012345678901234567890", "true", "false", "null", "3.0"}[r.IntN(9)])
	}
	ws()
}

func TestParseTree_MatchesOracleOnRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 2026))
	for i := 0; i < 3000; i++ {
		var w bytes.Buffer
		randomJSON(r, 5, &w)
		b := w.Bytes()
		if i%4 == 3 && len(b) > 0 {
			b[r.IntN(len(b))] = "{}[],:\"\\ x0"[r.IntN(11)]
		}
		checkTreeMatchesOracle(t, b)
	}
}

// FuzzParseTree_MatchesOracle: for any input, parseTree and the old
// parseTree agree on validity and, when it is valid, on the tree and on
// its treeJSON, byte for byte.
func FuzzParseTree_MatchesOracle(f *testing.F) {
	for _, b := range treeSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkTreeMatchesOracle(t, b) })
}

// checkLeafMatchesMarshal fails unless treeJSON writes the leaf v as
// json.Marshal does (the old treeJSON), or both fail.
func checkLeafMatchesMarshal(t *testing.T, v json.RawMessage) {
	t.Helper()
	for _, tree := range []any{v, []any{v}, &jsonObject{keys: []string{"k<"}, vals: map[string]any{"k<": v}}} {
		got, err := treeJSON(tree)
		want, oerr := oracleTreeJSON(tree)
		if (err == nil) != (oerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("treeJSON(%#v) = %q, %v; old treeJSON = %q, %v", tree, got, err, want, oerr)
		}
	}
}

func TestTreeJSON_LeafWrittenAsMarshalWritesIt(t *testing.T) {
	for _, s := range []string{
		"", " ", `"a`, `"a"b"`, "\"\x01\"", `"\x"`, `"\u12"`, `01`, `1.`, `-`, `+1`, `.5`, `1e`, `1e+`, `tru`, `nul`,
		` 1 `, `[ 1 , 2 ]`, `{ "a" : "<" }`, `"<>&"`, "\"\u2028\"", "\"\xe2\x80\"", "\"\xe2\"", "\"\xff\"",
		`"plain"`, `-0`, `1e400`, `0.5e-7`, `true`, `null`, `false`, `1 2`, `"a" x`,
	} {
		checkLeafMatchesMarshal(t, json.RawMessage(s))
	}
	checkLeafMatchesMarshal(t, nil)
}

// FuzzTreeJSON_LeafMatchesMarshal: for any leaf bytes, valid or not,
// treeJSON writes what json.Marshal writes, or fails as it does.
func FuzzTreeJSON_LeafMatchesMarshal(f *testing.F) {
	for _, s := range []string{`"a"`, `1`, `-0.5e+3`, `"<"`, "\"\u2028\"", ` [1, 2] `, `"\u0041"`, `01`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkLeafMatchesMarshal(t, json.RawMessage(b)) })
}

// TestTreeJSON_NonTreeValuesAsMarshalWritesThem covers nodes a caller may
// put in a tree that parseTree never makes.
func TestTreeJSON_NonTreeValuesAsMarshalWritesThem(t *testing.T) {
	obj := &jsonObject{keys: []string{"a", "missing"}, vals: map[string]any{"a": "s<"}}
	for _, tree := range []any{
		nil, (*jsonObject)(nil), []any(nil), []any{nil, (*jsonObject)(nil)}, "x&", 3.5, map[string]any{"o": obj},
		obj, []any{obj, json.RawMessage(nil), json.Number("12")},
	} {
		got, err := treeJSON(tree)
		want, oerr := oracleTreeJSON(tree)
		if (err == nil) != (oerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("treeJSON(%#v) = %q, %v; old treeJSON = %q, %v", tree, got, err, want, oerr)
		}
	}
}

// BenchmarkTree parses and writes back a messy legacy request document
// (and the original system's seed request), with the old code and the
// one-pass code side by side.
func BenchmarkTree(b *testing.B) {
	seed, err := os.ReadFile("testdata/seed-request.json")
	if err != nil {
		b.Fatal(err)
	}
	impls := []struct {
		name  string
		parse func([]byte) (any, error)
		write func(any) ([]byte, error)
	}{{"old", oracleParseTree, oracleTreeJSON}, {"onepass", parseTree, treeJSON}}
	for _, doc := range []struct {
		name string
		b    []byte
	}{{"messy-legacy", messyLegacyDoc()}, {"seed-request", seed}} {
		for _, impl := range impls {
			b.Run(doc.name+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(doc.b)))
				for b.Loop() {
					tree, err := impl.parse(doc.b)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := impl.write(tree); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
