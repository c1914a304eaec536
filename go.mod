module github.com/tfpilot/tfpilot

go 1.26.0

require github.com/google/go-github/v60 v60.0.0

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/go-querystring v1.1.0 // indirect
)
