/* Unit tests of lib/health.c: the health rules on the last 20 finished runs. */
#include "health.h"
#include "t.h"

/* Build runs from a string, newest first: s succeeded, f failed, t timeout,
 * a abandoned, c cancelled. */
static int
runs(const char *spec, struct jobs_health_run *r)
{
	int n = 0;

	for (; *spec && n < 40; spec++, n++) {
		const char *st = *spec == 's' ? "succeeded" : *spec == 'f' ? "failed" :
		    *spec == 't' ? "timeout" : *spec == 'a' ? "abandoned" : "cancelled";

		snprintf(r[n].status, sizeof(r[n].status), "%s", st);
		r[n].duration_ms = (n + 1) * 100;
	}
	return n;
}

int
main(void)
{
	static const struct { const char *name, *spec; enum jobs_health_state want; } cases[] = {
		{ "no run is new", "", JOBS_NEW },
		{ "all succeeded is healthy", "ssssssssssssssssssss", JOBS_HEALTHY },
		{ "last run failed is unhealthy", "fsssssssssssssssssss", JOBS_UNHEALTHY },
		{ "last run timed out is unhealthy", "tsssssssssssssssssss", JOBS_UNHEALTHY },
		{ "last run abandoned is unhealthy", "asssssssssssssssssss", JOBS_UNHEALTHY },
		{ "a failure among the last 5 is degraded", "ssssfsssssssssssssss", JOBS_DEGRADED },
		{ "an old failure at 95% is healthy", "sssssssssssssssssssf", JOBS_HEALTHY },
		{ "90% exactly is degraded", "ssssssssssssssssffss"
		    , JOBS_DEGRADED },
		{ "below 70% is unhealthy even after a success", "sssssfffffffsssssfff",
		    JOBS_UNHEALTHY },
		{ "70% exactly is degraded, not unhealthy", "ssssssssssssssffffff", JOBS_DEGRADED },
		{ "only the last 20 count", "sssssssssssssssssssssfffff", JOBS_HEALTHY },
		{ "a cancelled last run is not a failure", "csssssssssssssssssss", JOBS_HEALTHY },
		{ "a failure behind a cancelled run is still the last", "cfssssssssssssssssss",
		    JOBS_UNHEALTHY },
		{ "only cancelled runs are healthy, not new", "cc", JOBS_HEALTHY },
	};
	struct jobs_health_run r[40];
	struct jobs_health h;
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = runs(cases[i].spec, r);
		jobs_health_classify(r, n, &h);
		T_STR(cases[i].name, jobs_health_name(h.state),
		    jobs_health_name(cases[i].want));
	}
	n = runs("fffsfsssssssssssssss", r);
	jobs_health_classify(r, n, &h);
	T_INT("consecutive failures stop at a success", h.consecutive_failures, 3);
	T_INT("success count", h.succeeded, 16);
	T_INT("failure count", h.failures, 4);
	T_OK("success rate", h.success_rate > 0.799 && h.success_rate < 0.801);
	T_INT("p50 is the nearest rank", h.p50_ms, 1000);
	T_INT("p95 is the nearest rank", h.p95_ms, 1900);
	T_INT("average", h.avg_ms, 1050);
	n = runs("", r);
	jobs_health_classify(r, n, &h);
	T_OK("no run has no rate", h.success_rate < 0);
	T_INT("and no percentile", h.p95_ms, -1);
	return t_done();
}
