package cliserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/transport"
)

// SubdomainWhere says where a global account's subdomain is found, in the
// words of the btp CLI's documentation; every hint cpikey gives uses it.
const SubdomainWhere = "BTP cockpit: the global account view, or Switch Global Account"

// LoginRequest is a user/password login (§2.1). CustomIdP is the origin key
// of a custom identity provider; "" means the SAP ID service.
type LoginRequest struct {
	Subdomain string // global account subdomain
	User      string
	Password  string
	CustomIdP string
}

// loginBody has the exact field names and order of §2.1.
type loginBody struct {
	CustomIdP string `json:"customIdp"`
	Subdomain string `json:"subdomain"`
	UserName  string `json:"userName"`
	Password  string `json:"password"`
}

type loginAnswer struct {
	Issuer string `json:"issuer"`
	Mail   string `json:"mail"`
	User   string `json:"user"`
}

// Login logs in with user and password and makes the new session current.
func (c *Client) Login(ctx context.Context, req LoginRequest) (*Session, error) {
	if strings.TrimSpace(req.Subdomain) == "" {
		return nil, errors.New("BTP login: the global account subdomain is empty")
	}
	if req.User == "" || req.Password == "" {
		return nil, errors.New("BTP login: user name and password are required")
	}
	body, err := encodeJSON(loginBody{CustomIdP: req.CustomIdP, Subdomain: req.Subdomain, UserName: req.User, Password: req.Password})
	if err != nil {
		return nil, err
	}
	cl := &call{command: "login", method: http.MethodPost, path: "login/" + ProtocolVersion, body: body,
		idempotent: true, corrID: newUUID(), subdomain: req.Subdomain, customIdP: req.CustomIdP, secrets: []string{req.Password}}
	return c.finishLogin(ctx, cl, req.Subdomain, req.CustomIdP)
}

// finishLogin sends a login call and turns its answer into the session.
func (c *Client) finishLogin(ctx context.Context, cl *call, subdomain, idp string) (*Session, error) {
	resp, err := c.exchange(ctx, cl)
	if err != nil {
		return nil, err
	}
	return c.loginSession(resp, cl, subdomain, idp)
}

// loginSession reads a successful login answer (session id header, user in
// the body), closes it and makes the session current.
func (c *Client) loginSession(resp *http.Response, cl *call, subdomain, idp string) (*Session, error) {
	defer resp.Body.Close()
	id := strings.TrimSpace(resp.Header.Get("X-Cpcli-Sessionid"))
	if id == "" {
		return nil, &Error{Command: "login", HTTPStatus: resp.StatusCode, CorrelationID: cl.corrID,
			summary: "the BTP CLI server accepted the login but sent no session id",
			hint:    "Try again; if it persists, log in with the btp CLI and reuse its session"}
	}
	var ans loginAnswer
	if b, err := transport.ReadBody(resp.Body, errorBodyLimit); err == nil && len(b) > 0 {
		_ = json.Unmarshal(b, &ans) // informative only; §2.4 allows an empty body
	}
	s := &Session{id: id, Subdomain: subdomain, CustomIdP: idp, Mail: ans.Mail, Issuer: ans.Issuer, User: ans.User}
	c.SetSession(s)
	return s, nil
}

// BrowserLogin is a started SSO login (§2.5): the user opens URL, then
// WaitBrowserLogin returns the session.
type BrowserLogin struct {
	ID  string
	URL string

	customIdP string
	corrID    string
}

// StartBrowserLogin starts an SSO login; customIdP "" means SAP ID service.
func (c *Client) StartBrowserLogin(ctx context.Context, customIdP string) (*BrowserLogin, error) {
	path := "login/" + ProtocolVersion + "/browser"
	if customIdP != "" {
		path += "/idp/" + url.PathEscape(customIdP)
	}
	cl := &call{command: "login", method: http.MethodGet, path: path, idempotent: true, corrID: newUUID(), customIdP: customIdP}
	resp, err := c.exchange(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ans struct {
		LoginID string `json:"loginId"`
	}
	b, err := transport.ReadBody(resp.Body, errorBodyLimit)
	if err == nil {
		err = json.Unmarshal(b, &ans)
	}
	if err != nil || ans.LoginID == "" {
		return nil, &Error{Command: "login", HTTPStatus: resp.StatusCode, CorrelationID: cl.corrID,
			summary: "the BTP CLI server did not start the browser login (no login id)"}
	}
	page := "login/" + ProtocolVersion + "/browser/" + url.PathEscape(ans.LoginID)
	if customIdP != "" {
		page += "/idp/" + url.PathEscape(customIdP)
	}
	u, err := c.base.Parse(page)
	if err != nil {
		return nil, err
	}
	return &BrowserLogin{ID: ans.LoginID, URL: u.String(), customIdP: customIdP, corrID: cl.corrID}, nil
}

// maxBrowserWait bounds WaitBrowserLogin even when ctx has no deadline.
const maxBrowserWait = 15 * time.Minute

// WaitBrowserLogin waits until the user finished the browser login of bl
// and makes the new session current. The server long-polls; timeouts
// (HTTP 504, client timeouts) are answered by asking again until ctx ends.
func (c *Client) WaitBrowserLogin(ctx context.Context, bl *BrowserLogin, subdomain string) (*Session, error) {
	if bl == nil || bl.ID == "" {
		return nil, errors.New("BTP login: no browser login was started")
	}
	if strings.TrimSpace(subdomain) == "" {
		return nil, errors.New("BTP login: the global account subdomain is empty")
	}
	ctx, cancel := context.WithTimeout(ctx, maxBrowserWait)
	defer cancel()
	body, err := encodeJSON(map[string]string{"customIdp": bl.customIdP, "subdomain": subdomain})
	if err != nil {
		return nil, err
	}
	corr := bl.corrID
	if corr == "" {
		corr = newUUID()
	}
	pause := c.Retry.Normalized().BaseDelay
	for {
		cl := &call{command: "login", method: http.MethodPost, path: "login/" + ProtocolVersion + "/browser/" + url.PathEscape(bl.ID),
			body: body, idempotent: true, corrID: corr, subdomain: subdomain, customIdP: bl.customIdP}
		// One attempt per round: the wait itself is the retry loop.
		resp, err := c.once(ctx, cl)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("BTP login: stopped waiting for the browser login: %w", ctx.Err())
			}
			if re := redirectRefused(err); re != nil {
				return nil, fmt.Errorf("BTP login: %w", re)
			}
			// Client-side timeouts of the long poll: ask again.
			if err := transport.Sleep(ctx, pause); err != nil {
				return nil, fmt.Errorf("BTP login: stopped waiting for the browser login: %w", err)
			}
			continue
		}
		e, retry, after := c.classify(cl, resp)
		if e == nil {
			return c.loginSession(resp, cl, subdomain, bl.customIdP)
		}
		if e.HTTPStatus == http.StatusUnauthorized {
			e.summary = "the browser login was not completed or has expired"
			e.hint = "Start the login again and finish it in the browser"
			return nil, e
		}
		if !retry {
			return nil, e
		}
		if after < pause {
			after = pause
		}
		if err := transport.Sleep(ctx, after); err != nil {
			return nil, fmt.Errorf("BTP login: stopped waiting for the browser login: %w", err)
		}
	}
}

// Logout ends the current session at the server (§2.7) and forgets it.
func (c *Client) Logout(ctx context.Context) error {
	s := c.Session()
	if s == nil {
		return nil
	}
	body, err := encodeJSON(map[string]string{"customIdp": s.CustomIdP, "subdomain": s.Subdomain})
	if err != nil {
		return err
	}
	cl := &call{command: "logout", method: http.MethodPost, path: "logout/" + ProtocolVersion, body: body, sess: s, corrID: newUUID()}
	resp, err := c.once(ctx, cl)
	c.SetSession(nil)
	if re := redirectRefused(err); re != nil {
		return fmt.Errorf("BTP logout: %w", re)
	}
	if err != nil {
		return fmt.Errorf("BTP logout: %w", err)
	}
	resp.Body.Close()
	return nil
}
