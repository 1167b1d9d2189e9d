package cf

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/transport"
)

// Jobs of asynchronous creates and deletes (cloud-foundry.md §6.4).

// Job states, the full set.
const (
	JobProcessing = "PROCESSING"
	JobPolling    = "POLLING"
	JobComplete   = "COMPLETE"
	JobFailed     = "FAILED"
)

// Job is a Cloud Controller job.
type Job struct {
	GUID      string
	Operation string // service_instance.create, service_keys.create, ...
	State     string // JobProcessing, JobPolling, JobComplete, JobFailed
	Errors    []APIError
	Warnings  []string
	// ResourceURL and ResourceGUID point at the instance or key the job
	// works on; "" once the resource is gone (e.g. after a delete).
	ResourceURL  string
	ResourceGUID string
	UpdatedAt    time.Time
}

// Done reports COMPLETE or FAILED.
func (j *Job) Done() bool { return j.State == JobComplete || j.State == JobFailed }

type wireJob struct {
	GUID      string     `json:"guid"`
	Operation string     `json:"operation"`
	State     string     `json:"state"`
	UpdatedAt string     `json:"updated_at"`
	Errors    []APIError `json:"errors"`
	Warnings  []struct {
		Detail string `json:"detail"`
	} `json:"warnings"`
	Links map[string]*link `json:"links"`
}

func (w wireJob) job() Job {
	j := Job{GUID: w.GUID, Operation: w.Operation, State: w.State, Errors: w.Errors, UpdatedAt: parseTime(w.UpdatedAt)}
	for _, x := range w.Warnings {
		j.Warnings = append(j.Warnings, x.Detail)
	}
	// The key differs by job kind: service_instances (plural) for
	// instances, service_credential_binding (singular) for keys.
	for _, k := range []string{"service_instances", "service_credential_binding", "service_credential_bindings", "service_instance"} {
		if l := w.Links[k]; l != nil && l.Href != "" {
			j.ResourceURL = l.Href
			j.ResourceGUID = l.Href[strings.LastIndex(l.Href, "/")+1:]
			break
		}
	}
	return j
}

// GetJob reads a job by the URL a create or delete returned.
func (c *Client) GetJob(ctx context.Context, jobURL string) (*Job, error) {
	j, _, err := c.getJob(ctx, jobURL)
	return j, err
}

func (c *Client) getJob(ctx context.Context, jobURL string) (*Job, time.Duration, error) {
	r, err := c.cc(ctx, http.MethodGet, jobURL, nil)
	if err != nil {
		return nil, 0, err
	}
	var w wireJob
	if err := decode(r, jobURL, &w); err != nil {
		return nil, 0, err
	}
	j := w.job()
	return &j, transport.RetryAfter(r.header), nil
}

// PollInterval bounds how often WaitJob polls: it starts at Min and backs
// off towards Max. Zero values mean 1s and 10s.
type PollInterval struct {
	Min, Max time.Duration
}

// WaitJob polls the job until it is COMPLETE or FAILED, or ctx ends.
// onPoll (may be nil) sees every state read. It never polls more often
// than Min and waits longer when the server sends Retry-After. A FAILED
// job returns the job and a *JobFailedError carrying errors[0].detail.
func (c *Client) WaitJob(ctx context.Context, jobURL string, every PollInterval, onPoll func(Job)) (*Job, error) {
	lo, hi := every.Min, every.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 10 * time.Second
	}
	if hi < lo {
		hi = lo
	}
	wait := lo
	for {
		j, ra, err := c.getJob(ctx, jobURL)
		if err != nil {
			return nil, err
		}
		if onPoll != nil {
			onPoll(*j)
		}
		switch j.State {
		case JobComplete:
			return j, nil
		case JobFailed:
			return j, &JobFailedError{Job: *j}
		}
		d := wait
		if ra > d {
			d = ra
		}
		if err := transport.Sleep(ctx, d); err != nil {
			return j, err
		}
		wait = min(hi, wait+wait/2)
	}
}
