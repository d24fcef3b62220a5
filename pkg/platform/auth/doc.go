// Package auth is identity and access for the Predikat services: who is
// calling (a client certificate, a bearer JWT, or nobody), and whether the
// policy lets them make this call. Every RPC states the permission it needs
// in its proto options (predikat.auth.v1.access); the policy file binds
// principals and groups to roles holding permissions, optionally scoped to
// schemes and institutions. Everything is denied unless a binding grants it.
package auth
