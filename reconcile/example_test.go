package reconcile_test

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/reconcile"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// Two replicas share one store; each runs a Reconciler, and only the
// one holding the lease syncs. When it stops, it resigns and the other
// leads at once.
func ExampleReconciler() {
	ctx := context.Background()
	fake := githubtest.New(githubtest.Options{})
	defer fake.Close()
	gh, _ := githubx.New(githubx.Options{BaseURL: fake.URL(), Token: "token", AllowInsecureHTTP: true})
	catalog, _ := tfpilot.NewCatalog(tfpilot.Module{Name: "s3_bucket", Source: "../../modules/s3-bucket"})
	store := memstore.New(nil)
	pilot, _ := tfpilot.New(store, gh, tfpilot.Config{Catalog: catalog, Targets: tfpilot.StaticTargets{}})

	a := &reconcile.Reconciler{Pilot: pilot, Store: store, Holder: "replica-a"}
	b := &reconcile.Reconciler{Pilot: pilot, Store: store, Holder: "replica-b"}
	fmt.Println("a leads:", a.Pass(ctx).Leading)
	fmt.Println("b leads:", b.Pass(ctx).Leading)
	a.Resign(ctx) // what Run does when its context ends
	fmt.Println("b leads after a resigned:", b.Pass(ctx).Leading)
	fmt.Println("fence:", b.Stats().Fence)
	// Output:
	// a leads: true
	// b leads: false
	// b leads after a resigned: true
	// fence: 2
}
