package server

import (
	"crypto/x509"
	"fmt"
	"os"
)

// outboundRoots returns the roots that verify remote servers where
// verification is required (MTA-STS enforce, REQUIRETLS, MTA-STS policy
// hosts, the relay): the system's plus the PEM certificates in file, or nil
// (the system's alone) when file is "".
func outboundRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", file)
	}
	return pool, nil
}
