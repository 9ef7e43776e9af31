package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus metrics. The flow label is empty
// for requests that matched no route.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "flowline",
			Subsystem: "gateway",
			Name:      "requests_total",
			Help:      "Requests to published endpoints, by flow and status code.",
		}, []string{"flow", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "flowline",
			Subsystem: "gateway",
			Name:      "request_duration_seconds",
			Help:      "Time from a request's arrival at the gateway to the end of its answer, by flow.",
			Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"flow"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(flow string, code int, d time.Duration) {
	m.requests.WithLabelValues(flow, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(flow).Observe(d.Seconds())
}
