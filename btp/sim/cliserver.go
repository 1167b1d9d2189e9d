package sim

import "net/http"

// cliServerHandler serves the BTP CLI server protocol. (placeholder: being written)
func (s *Server) cliServerHandler() http.Handler { return http.NotFoundHandler() }
