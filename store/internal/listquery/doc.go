// Package listquery checks a [store.ListQuery] for every store, and
// encodes the keyset cursor that the memory and PostgreSQL stores page
// with: the
// (ReceivedAt, ID) of the last request of the previous page, as
// base64url JSON. Malformed input is an error wrapping [store.ErrInvalid].
package listquery
