package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictEnumJSON is the server's JSON codec (Connect's application/json
// and gRPC's +json). Like Connect's default it accepts fields it does not
// know, so that a client built from a newer schema still works; unlike
// it, a string that names no value of its enum ("statuses":["APPLIED"])
// is an error (invalid_argument) rather than silently dropped, which
// would turn a filter into "everything". Enum numbers stay open, as
// proto3 enums are; each handler checks the values it needs.
type strictEnumJSON struct{ name string }

// jsonCodecs are the codecs for both names Connect uses for JSON.
var jsonCodecs = []strictEnumJSON{{"json"}, {"json; charset=utf-8"}}

func (c strictEnumJSON) Name() string { return c.name }

func (c strictEnumJSON) IsBinary() bool { return false }

func (c strictEnumJSON) Marshal(message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a proto.Message", message)
	}
	return protojson.MarshalOptions{}.Marshal(m)
}

func (c strictEnumJSON) MarshalAppend(dst []byte, message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a proto.Message", message)
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, m)
}

// MarshalStable is Marshal with whitespace removed (protojson varies it).
func (c strictEnumJSON) MarshalStable(message any) ([]byte, error) {
	b, err := c.Marshal(message)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (c strictEnumJSON) Unmarshal(data []byte, message any) error {
	m, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a proto.Message", message)
	}
	if len(data) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("unmarshal into %T: %w", message, err)
	}
	return checkEnumNames(m.ProtoReflect().Descriptor(), data, "")
}

// checkEnumNames reports the first enum string in the JSON object raw,
// read as md, that names no value of its enum. It decodes only what it
// must: unknown fields are skipped, as protojson was told to, and so are
// scalars and the well-known types (a config Struct, say), whose JSON is
// special. protojson has already checked raw's syntax and shape.
func checkEnumNames(md protoreflect.MessageDescriptor, raw json.RawMessage, path string) error {
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	for k, v := range obj {
		fd := md.Fields().ByJSONName(k)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(k))
		}
		if fd == nil || !needsCheck(fd) {
			continue
		}
		p := strings.TrimPrefix(path+"."+string(fd.Name()), ".")
		switch {
		case fd.IsMap():
			var mm map[string]json.RawMessage
			_ = json.Unmarshal(v, &mm)
			for key, e := range mm {
				if err := checkEnumValue(fd.MapValue(), e, p+"["+key+"]"); err != nil {
					return err
				}
			}
		case fd.IsList():
			var list []json.RawMessage
			_ = json.Unmarshal(v, &list)
			for i, e := range list {
				if err := checkEnumValue(fd, e, fmt.Sprintf("%s[%d]", p, i)); err != nil {
					return err
				}
			}
		default:
			if err := checkEnumValue(fd, v, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// needsCheck reports whether a value of fd can hold an enum name.
func needsCheck(fd protoreflect.FieldDescriptor) bool {
	if fd.IsMap() {
		fd = fd.MapValue()
	}
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return fd.Enum().FullName() != "google.protobuf.NullValue"
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return !strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.")
	}
	return false
}

// checkEnumValue checks one value of field fd.
func checkEnumValue(fd protoreflect.FieldDescriptor, raw json.RawMessage, path string) error {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		var s string
		if json.Unmarshal(raw, &s) != nil || fd.Enum().FullName() == "google.protobuf.NullValue" {
			return nil // a number (open enum) or null
		}
		if fd.Enum().Values().ByName(protoreflect.Name(s)) == nil {
			return fmt.Errorf("%s: %q is not a value of %s", path, s, fd.Enum().FullName())
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkEnumNames(fd.Message(), raw, path)
	}
	return nil
}
