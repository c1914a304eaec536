package server

import (
	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/changefeed"
)

// Hub tells Watch streams that a request changed. It is the library's
// [changefeed.Hub], named here so that the server's options read as
// before.
type Hub = changefeed.Hub

// Subscription is a [changefeed.Subscription].
type Subscription = changefeed.Subscription

// NewHub returns an empty hub ([changefeed.New]).
func NewHub() *Hub { return changefeed.New() }

// Notify returns store with its request and event writes publishing to
// hub ([changefeed.Notify]).
func Notify(store tfpilot.Store, hub *Hub) tfpilot.Store { return changefeed.Notify(store, hub) }
