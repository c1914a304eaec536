package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// catalogService implements tfpilotv1connect.CatalogServiceHandler: the
// engine's catalogue, targets and policy, for portals. Every
// authenticated caller may read it; ListTargets answers what the
// Authorizer lets the caller create in.
type catalogService struct {
	pilot *tfpilot.Pilot
	log   *slog.Logger
}

func (s *catalogService) ListModules(ctx context.Context, _ *connect.Request[pb.ListModulesRequest]) (*connect.Response[pb.ListModulesResponse], error) {
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	out := &pb.ListModulesResponse{}
	for _, m := range s.pilot.Catalog().Modules() {
		pm, err := moduleToProto(m)
		if err != nil {
			return nil, ConnectError(ctx, s.log, err)
		}
		out.Modules = append(out.Modules, pm)
	}
	return connect.NewResponse(out), nil
}

func (s *catalogService) GetModule(ctx context.Context, req *connect.Request[pb.GetModuleRequest]) (*connect.Response[pb.GetModuleResponse], error) {
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	name := req.Msg.GetName()
	if name == "" {
		return nil, invalidArgument("name is required", tfpilot.FieldViolation{Field: "name", Description: "is required"})
	}
	m, ok := s.pilot.Catalog().Module(name)
	if !ok {
		return nil, notFound(fmt.Sprintf("no module %q in the catalogue", name), "module", name)
	}
	pm, err := moduleToProto(m)
	if err != nil {
		return nil, ConnectError(ctx, s.log, err)
	}
	return connect.NewResponse(&pb.GetModuleResponse{Module: pm}), nil
}

func (s *catalogService) ListTargets(ctx context.Context, _ *connect.Request[pb.ListTargetsRequest]) (*connect.Response[pb.ListTargetsResponse], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := s.pilot.CreateTargets(ctx, p)
	if errors.Is(err, tfpilot.ErrTargetsNotListable) {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("the server's targets cannot be listed"))
	}
	if err != nil {
		return nil, ConnectError(ctx, s.log, err)
	}
	out := &pb.ListTargetsResponse{}
	for _, t := range ts {
		out.Targets = append(out.Targets, &pb.CreateTarget{Project: t.Project, Environment: t.Environment,
			Protected: t.Protected, AllowSelfApproval: t.AllowSelfApproval, Approvers: t.Approvers})
	}
	return connect.NewResponse(out), nil
}

func (s *catalogService) ListPolicies(ctx context.Context, _ *connect.Request[pb.ListPoliciesRequest]) (*connect.Response[pb.ListPoliciesResponse], error) {
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	ps := s.pilot.Policies()
	slices.SortStableFunc(ps, func(a, b tfpilot.PolicyInfo) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Name, b.Name))
	})
	out := &pb.ListPoliciesResponse{}
	for _, p := range ps {
		out.Policies = append(out.Policies, &pb.Policy{Name: p.Name, Field: p.Field, Description: p.Description,
			Pattern: p.Pattern, AllowedValues: p.Allowed})
	}
	return connect.NewResponse(out), nil
}

var fieldTypes = map[tfpilot.FieldType]pb.FieldType{
	tfpilot.FieldString: pb.FieldType_FIELD_TYPE_STRING, tfpilot.FieldNumber: pb.FieldType_FIELD_TYPE_NUMBER,
	tfpilot.FieldBool: pb.FieldType_FIELD_TYPE_BOOL, tfpilot.FieldList: pb.FieldType_FIELD_TYPE_LIST,
	tfpilot.FieldMap: pb.FieldType_FIELD_TYPE_MAP, tfpilot.FieldObject: pb.FieldType_FIELD_TYPE_OBJECT,
}

// moduleToProto converts a catalogue module, with its JSON Schema.
func moduleToProto(m tfpilot.Module) (*pb.Module, error) {
	schema, err := m.JSONSchema()
	if err != nil {
		return nil, err
	}
	out := &pb.Module{Name: m.Name, Description: m.Description, Source: m.Source, Version: m.Version, JsonSchema: string(schema)}
	for _, f := range m.Fields {
		pf := &pb.ModuleField{Name: f.Name, Type: fieldTypes[f.Type], Required: f.Required, Description: f.Description, Pattern: f.Pattern}
		if f.Default != nil {
			if pf.DefaultValue, err = jsonValue(f.Default); err != nil {
				return nil, fmt.Errorf("module %q field %q default: %w", m.Name, f.Name, err)
			}
		}
		for _, a := range f.Allowed {
			v, err := jsonValue(a)
			if err != nil {
				return nil, fmt.Errorf("module %q field %q allowed value: %w", m.Name, f.Name, err)
			}
			pf.AllowedValues = append(pf.AllowedValues, v)
		}
		out.Fields = append(out.Fields, pf)
	}
	return out, nil
}

// jsonValue converts any JSON-encodable value to a Value, through its
// JSON encoding (as jsonStruct does for maps).
func jsonValue(v any) (*structpb.Value, error) {
	st, err := jsonStruct(map[string]any{"v": v})
	if err != nil {
		return nil, err
	}
	return st.GetFields()["v"], nil
}
