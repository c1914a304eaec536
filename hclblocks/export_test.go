package hclblocks

import "fmt"

// LexOnly returns e set to find markers with the HCL lexer only, the path
// quickScan must agree with.
func LexOnly(e Editor) Editor {
	e.lexOnly = true
	return e
}

// ScanResult is what a marker scan learns about a file, printable for
// comparison.
type ScanResult struct {
	Marks         []string
	TopLevelAtEOF bool
	TooDeep       bool
}

func scanResult(marks []mark, info scanInfo) ScanResult {
	r := ScanResult{TopLevelAtEOF: info.topLevelAtEOF, TooDeep: info.tooDeep}
	for _, mk := range marks {
		r.Marks = append(r.Marks, fmt.Sprintf("%+v", mk))
	}
	return r
}

// QuickScan runs the byte scanner; ok is false when it gives up.
func QuickScan(m Markers, src []byte) (r ScanResult, ok bool) {
	marks, info, ok := m.orDefault().quickScan(src)
	return scanResult(marks, info), ok
}

// LexScan runs the lexer-based scanner.
func LexScan(m Markers, src []byte) ScanResult {
	return scanResult(m.orDefault().scan(src, "file.tf"))
}
