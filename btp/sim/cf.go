package sim

import "net/http"

// cfHandler serves Cloud Foundry v3 + UAA. (placeholder: being written)
func (s *Server) cfHandler() http.Handler { return http.NotFoundHandler() }

// xsuaaHandler serves the it-rt token endpoint. (placeholder: being written)
func (s *Server) xsuaaHandler() http.Handler { return http.NotFoundHandler() }
