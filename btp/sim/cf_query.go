package sim

import (
	"net/url"
	"strconv"
	"strings"
)

// Query strings of Cloud Controller reads: filters, paging, include= and
// fields[...] (cloud-foundry.md §3.4, §14). Each endpoint states what it
// accepts; anything else is a 400 CF-BadQueryParameter whose detail joins
// every complaint with ", ", as CC's message validation does.

// fieldSpec is one fields[resource] a read accepts and the keys allowed in
// it, in the order CC lists them in its error text.
type fieldSpec struct {
	resource string
	keys     []string
}

// querySpec is what one endpoint accepts besides label_selector.
type querySpec struct {
	list    bool // page, per_page and order_by
	filters []string
	include []string // valid include= values
	fields  []fieldSpec
}

type listQuery struct {
	vals    url.Values // everything given; pagination hrefs repeat it
	page    int
	perPage int
	orderBy string
	include []string
	fields  map[string][]string
}

// parseList validates a list read's query; on error it has answered 400.
func (c *ccReq) parseList(spec querySpec) (*listQuery, bool) {
	spec.list = true
	return c.parseQuery(spec)
}

// parseShow validates the query of a single-resource read.
func (c *ccReq) parseShow(spec querySpec) (*listQuery, bool) {
	spec.list = false
	return c.parseQuery(spec)
}

func (c *ccReq) parseQuery(spec querySpec) (*listQuery, bool) {
	q := c.r.URL.Query()
	valid := []string{}
	if spec.list {
		valid = append(valid, "page", "per_page", "order_by")
	}
	valid = append(valid, spec.filters...)
	if len(spec.include) > 0 {
		valid = append(valid, "include")
	}
	if len(spec.fields) > 0 {
		valid = append(valid, "fields")
	}
	lq := &listQuery{vals: url.Values{}, page: 1, perPage: 50, fields: map[string][]string{}}
	var unknown, fieldOrder []string
	for _, k := range queryKeys(c.r.URL.RawQuery) {
		name := k
		if strings.HasPrefix(k, "fields[") && strings.HasSuffix(k, "]") {
			name = "fields"
			if len(spec.fields) > 0 {
				fieldOrder = append(fieldOrder, strings.TrimSuffix(strings.TrimPrefix(k, "fields["), "]"))
			}
		}
		switch {
		case (name == "label_selector" && spec.list) || contains(valid, name):
			lq.vals.Set(k, q.Get(k))
		case !contains(unknown, name):
			unknown = append(unknown, name)
		}
	}
	var errs []string
	if len(unknown) > 0 {
		errs = append(errs, "Unknown query parameter(s): "+quoteList(unknown)+". Valid parameters are: "+quoteList(valid))
	}
	if _, ok := lq.vals["include"]; ok {
		lq.include = splitList(lq.vals.Get("include"))
		errs = append(errs, includeErrors(lq.include, spec.include)...)
	}
	for _, res := range fieldOrder {
		keys := splitList(q.Get("fields[" + res + "]"))
		allowed, ok := fieldKeys(spec.fields, res)
		switch {
		case !ok:
			var names []string
			for _, f := range spec.fields {
				names = append(names, f.resource)
			}
			errs = append(errs, "Fields ["+res+"] valid resources are: "+quoteList(names))
		case !subset(keys, allowed):
			errs = append(errs, "Fields valid keys for '"+res+"' are: "+quoteList(allowed))
		default:
			lq.fields[res] = keys
		}
	}
	if spec.list {
		errs = append(errs, lq.paging(q)...)
	}
	if len(errs) > 0 {
		c.badQuery(strings.Join(errs, ", "))
		return nil, false
	}
	return lq, true
}

// paging reads page, per_page and order_by.
func (lq *listQuery) paging(q url.Values) []string {
	var errs []string
	if v, ok := q["page"]; ok {
		if n, err := strconv.Atoi(v[0]); err != nil || n < 1 {
			errs = append(errs, "Page must be a positive integer")
		} else {
			lq.page = n
		}
	}
	if v, ok := q["per_page"]; ok {
		switch n, err := strconv.Atoi(v[0]); {
		case err != nil || n < 1:
			errs = append(errs, "Per page must be a positive integer")
		case n > 5000:
			errs = append(errs, "Per page must be between 1 and 5000")
		default:
			lq.perPage = n
		}
	}
	if v, ok := q["order_by"]; ok {
		if o := strings.TrimPrefix(v[0], "-"); o != "created_at" && o != "updated_at" && o != "name" {
			errs = append(errs, "Order by can only be: 'created_at', 'updated_at', 'name'")
		} else {
			lq.orderBy = v[0]
		}
	}
	lq.vals.Del("page")
	lq.vals.Del("per_page")
	return errs
}

// includeErrors are CC's IncludeParamValidator texts.
func includeErrors(given, valid []string) []string {
	var errs []string
	seen := map[string]int{}
	for _, v := range given {
		if !contains(valid, v) {
			errs = append(errs, "Invalid included resource: '"+v+"'. Valid included resources are: "+quoteList(valid))
			continue
		}
		if seen[v]++; seen[v] == 2 {
			errs = append(errs, "Duplicate included resource: '"+v+"'")
		}
	}
	return errs
}

func fieldKeys(spec []fieldSpec, res string) ([]string, bool) {
	for _, f := range spec {
		if f.resource == res {
			return f.keys, true
		}
	}
	return nil, false
}

// queryKeys lists the distinct keys of a raw query in the order given.
func queryKeys(raw string) []string {
	var keys []string
	for _, part := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(k); err == nil && k != "" && !contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func splitList(v string) []string { return strings.Split(v, ",") }

func subset(xs, of []string) bool {
	for _, x := range xs {
		if !contains(of, x) {
			return false
		}
	}
	return true
}

// includes reports whether include= names any of vs.
func (lq *listQuery) includes(vs ...string) bool {
	for _, v := range vs {
		if contains(lq.include, v) {
			return true
		}
	}
	return false
}

// values returns a filter's comma-separated values and whether it was given.
func (lq *listQuery) values(k string) ([]string, bool) {
	if _, ok := lq.vals[k]; !ok {
		return nil, false
	}
	return strings.Split(lq.vals.Get(k), ","), true
}

// match is true when filter k is absent or v is one of its values.
func (lq *listQuery) match(k, v string) bool {
	vs, ok := lq.values(k)
	return !ok || contains(vs, v)
}

// matchFold is match, case-insensitively.
func (lq *listQuery) matchFold(k, v string) bool {
	vs, ok := lq.values(k)
	if !ok {
		return true
	}
	for _, x := range vs {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
