package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tfpilot/tfpilot/reconcile"
)

// WatchReconciler exposes rec's counters on /metrics:
// tfpilot_reconciler_leader (1 while rec leads), and the totals of
// elections, depositions, passes, syncs by result, recovered panics and
// pruned records by kind. Call it once per reconciler.
func (s *Server) WatchReconciler(rec *reconcile.Reconciler) error {
	return s.metrics.registry.Register(reconcilerCollector{rec})
}

var (
	recLeaderDesc  = prometheus.NewDesc("tfpilot_reconciler_leader", "1 while this process's reconciler holds the leader lease.", nil, nil)
	recElectedDesc = prometheus.NewDesc("tfpilot_reconciler_elections_total", "Times this process's reconciler became the leader.", nil, nil)
	recDeposedDesc = prometheus.NewDesc("tfpilot_reconciler_depositions_total", "Times this process's reconciler stopped being the leader.", nil, nil)
	recPassesDesc  = prometheus.NewDesc("tfpilot_reconciler_passes_total", "Reconcile passes made as leader.", nil, nil)
	recSyncsDesc   = prometheus.NewDesc("tfpilot_reconciler_syncs_total", "Requests synced by the reconciler, by result.", []string{"result"}, nil)
	recPanicsDesc  = prometheus.NewDesc("tfpilot_reconciler_panics_total", "Panics recovered in reconciler work.", nil, nil)
	recPrunedDesc  = prometheus.NewDesc("tfpilot_reconciler_pruned_total", "Records pruned by the reconciler, by kind.", []string{"kind"}, nil)
)

// reconcilerCollector reads a reconciler's Stats at each scrape.
type reconcilerCollector struct{ rec *reconcile.Reconciler }

func (c reconcilerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{recLeaderDesc, recElectedDesc, recDeposedDesc, recPassesDesc, recSyncsDesc, recPanicsDesc, recPrunedDesc} {
		ch <- d
	}
}

func (c reconcilerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.rec.Stats()
	leader := 0.0
	if st.Leading {
		leader = 1
	}
	ch <- prometheus.MustNewConstMetric(recLeaderDesc, prometheus.GaugeValue, leader)
	ch <- prometheus.MustNewConstMetric(recElectedDesc, prometheus.CounterValue, float64(st.Elected))
	ch <- prometheus.MustNewConstMetric(recDeposedDesc, prometheus.CounterValue, float64(st.Deposed))
	ch <- prometheus.MustNewConstMetric(recPassesDesc, prometheus.CounterValue, float64(st.Passes))
	ch <- prometheus.MustNewConstMetric(recSyncsDesc, prometheus.CounterValue, float64(st.Synced), "ok")
	ch <- prometheus.MustNewConstMetric(recSyncsDesc, prometheus.CounterValue, float64(st.Failed), "error")
	ch <- prometheus.MustNewConstMetric(recPanicsDesc, prometheus.CounterValue, float64(st.Panics))
	ch <- prometheus.MustNewConstMetric(recPrunedDesc, prometheus.CounterValue, float64(st.Pruned.Idempotency), "idempotency")
	ch <- prometheus.MustNewConstMetric(recPrunedDesc, prometheus.CounterValue, float64(st.Pruned.Deliveries), "delivery")
	ch <- prometheus.MustNewConstMetric(recPrunedDesc, prometheus.CounterValue, float64(st.Pruned.Backoffs), "backoff")
}
