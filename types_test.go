package tfpilot_test

import "context"

type ctxT = context.Context
