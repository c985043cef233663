package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/backup"
	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
)

// The admin API: operator endpoints outside the KMS protocol, under
// AdminPathPrefix. Requests are signed with SigV4 like KMS requests
// (service "kms", empty body) and only the root user of the bootstrap
// account may call them.
const (
	AdminPathPrefix = "/_openkms/admin/"
	// AdminBackupPath streams a backup (package backup) of the live store
	// on GET. The response trailer AdminBackupStatusHeader is
	// "complete" once the whole backup was sent; a backup that fails while
	// streaming aborts the connection instead.
	AdminBackupPath         = AdminPathPrefix + "backup"
	AdminBackupStatusHeader = "X-Openkms-Backup-Status"
	// AdminBackupRecordsHeader is a trailer with the number of records.
	AdminBackupRecordsHeader = "X-Openkms-Backup-Records"
)

const (
	adminContentType = "application/x-amz-json-1.1"
	// adminWriteTimeout is how long one write of a backup may take; the
	// server's WriteTimeout would cut a long backup short.
	adminWriteTimeout = 2 * time.Minute
)

// admin serves the admin API.
type admin struct {
	// explain answers policy explanations (nil: not offered).
	explain  func(ctx context.Context, p principal.Principal, region, action, keyARN string, conds map[string][]string) (kms.Explanation, error)
	verifier *sigv4.Verifier
	store    storage.Store
	sealer   rootkey.Sealer
	account  string
	log      *slog.Logger
	backups  chan struct{} // one backup at a time
}

// adminHandler returns the handler for AdminPathPrefix. Every request is
// authenticated with v and must come from the root user of adminAccount
// (arn:aws:iam::<adminAccount>:root); others get 403
// AccessDeniedException. GET AdminBackupPath streams a backup of store,
// sealed with sealer, from one consistent snapshot while the server keeps
// serving.
func adminHandler(v *sigv4.Verifier, store storage.Store, sealer rootkey.Sealer, adminAccount string, log *slog.Logger) *admin {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &admin{verifier: v, store: store, sealer: sealer, account: adminAccount, log: log, backups: make(chan struct{}, 1)}
	return a
}

func (a *admin) serve(w http.ResponseWriter, r *http.Request) {
	p, err := a.authenticate(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	switch {
	case r.URL.Path == AdminBackupPath && r.Method == http.MethodGet:
		a.backup(w, r, p)
	case r.URL.Path == AdminExplainPath && r.Method == http.MethodGet && a.explain != nil:
		a.explainRequest(w, r)
	case r.URL.Path == AdminBackupPath:
		w.Header().Set("Allow", http.MethodGet)
		a.writeError(w, r, &kmserr.Error{Code: kmserr.UnsupportedOperation, Message: "Use GET " + AdminBackupPath + ".", Status: http.StatusMethodNotAllowed})
	default:
		a.writeError(w, r, &kmserr.Error{Code: kmserr.UnknownOperation, Message: "No admin operation at " + r.URL.Path + ".", Status: http.StatusNotFound})
	}
}

// authenticate verifies the signature and that the caller is the root user
// of the admin account.
func (a *admin) authenticate(r *http.Request) (principal.Principal, error) {
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1))
	if err != nil {
		return principal.Principal{}, kmserr.New(kmserr.SerializationException, "Could not read the request body.")
	}
	if n > 0 {
		return principal.Principal{}, kmserr.New(kmserr.SerializationException, "Admin requests take no body.")
	}
	res, err := a.verifier.Verify(r, []byte{})
	if err != nil {
		return principal.Principal{}, err
	}
	p := res.Principal
	if p.Type != principal.TypeRoot || p.Account != a.account || p.ARN != identity.RootARN(a.account) {
		a.log.Warn("admin request denied", "path", r.URL.Path, "principal", p.ARN, "access_key_id", p.AccessKeyID)
		return p, &kmserr.Error{Code: kmserr.AccessDenied, Status: http.StatusForbidden,
			Message: fmt.Sprintf("User: %s is not authorized to perform: openkms:Admin (only the root user of account %s may)", p.ARN, a.account)}
	}
	return p, nil
}

func (a *admin) backup(w http.ResponseWriter, r *http.Request, p principal.Principal) {
	select {
	case a.backups <- struct{}{}:
		defer func() { <-a.backups }()
	default:
		a.writeError(w, r, &kmserr.Error{Code: kmserr.Throttling, Message: "A backup is already running.", Status: http.StatusTooManyRequests})
		return
	}
	start := time.Now()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="openkms-`+start.UTC().Format("20060102T150405Z")+`.backup"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Trailer", AdminBackupStatusHeader+", "+AdminBackupRecordsHeader)
	dw := &deadlineWriter{w: w, rc: http.NewResponseController(w)}
	st, err := backup.Write(r.Context(), dw, a.store, a.sealer)
	if err != nil {
		a.log.Error("admin backup failed", "principal", p.ARN, "bytes_sent", dw.n, "error", err)
		if dw.n == 0 {
			h.Del("Trailer")
			h.Del("Content-Disposition")
			a.writeError(w, r, kmserr.Internal(err))
			return
		}
		// The status line is gone: cut the connection so the client sees
		// a failed transfer, not a short backup.
		panic(http.ErrAbortHandler)
	}
	h.Set(AdminBackupStatusHeader, "complete")
	h.Set(AdminBackupRecordsHeader, strconv.FormatInt(st.Records, 10))
	a.log.Info("admin backup sent", "principal", p.ARN, "backup_id", st.ID, "records", st.Records,
		"bytes", st.Size, "duration", time.Since(start).Round(time.Millisecond))
}

// writeError answers with the AWS JSON error shape.
func (a *admin) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := kmserr.As(err)
	if e.Server {
		a.log.Error("admin request failed", "path", r.URL.Path, "error", err)
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
		if e.Server {
			status = http.StatusInternalServerError
		}
	}
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{string(e.Code), e.Message})
	w.Header().Set("Content-Type", adminContentType)
	w.Header().Set("x-amzn-ErrorType", string(e.Code))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// deadlineWriter extends the connection's write deadline before each write,
// so a backup may take longer than the server's WriteTimeout as long as it
// keeps moving.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
	n  int64
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(adminWriteTimeout))
	n, err := d.w.Write(p)
	d.n += int64(n)
	return n, err
}

// Restore restores the backup read from r into the store cfg names (the
// embedded store in cfg.DataDir, created if needed, or cfg.Storage), with
// the root key cfg names (a file root key must exist): it must be the root
// key of the server the backup was taken from. No server may be using the
// store (the embedded store's file lock enforces that; for PostgreSQL it is
// the operator's job). The store must be empty unless force; see
// backup.Restore for the checks and the order of writes.
func Restore(ctx context.Context, cfg config.Server, r io.Reader, force bool) (backup.Stats, error) {
	sealer, err := openExistingRootKey(ctx, cfg)
	if err != nil {
		return backup.Stats{}, err
	}
	tmp := ""
	if cfg.Storage == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return backup.Stats{}, fmt.Errorf("creating data directory: %w", err)
		}
		tmp = cfg.DataDir
	}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return backup.Stats{}, err
	}
	defer store.Close()
	st, err := backup.Restore(ctx, r, store, sealer, &backup.RestoreOptions{Force: force, TempDir: tmp})
	if err != nil {
		return st, err
	}
	if err := checkRootKey(ctx, store, sealer); err != nil {
		return st, err
	}
	return st, nil
}

// Migrate copies the embedded store in cfg.DataDir (its server stopped)
// into the PostgreSQL store cfg.Storage names, which must be empty. Values
// are copied as they are, so they stay sealed under the root key cfg names
// (a file root key must exist), which must open the source store; every
// server of the target must use that root key. It returns the number of
// records copied after checking that the target holds exactly them.
func Migrate(ctx context.Context, cfg config.Server) (backup.Stats, error) {
	if cfg.Storage == "" {
		return backup.Stats{}, errors.New("migrate: the target storage (a postgres:// URL) is required")
	}
	sealer, err := openExistingRootKey(ctx, cfg)
	if err != nil {
		return backup.Stats{}, err
	}
	srcCfg := cfg
	srcCfg.Storage, srcCfg.StorageSchema = "", ""
	if _, err := os.Stat(filepath.Join(srcCfg.DataDir, DBFile)); err != nil {
		return backup.Stats{}, fmt.Errorf("migrate: no embedded store in %s: %w", srcCfg.DataDir, err)
	}
	src, err := OpenStore(ctx, srcCfg)
	if err != nil {
		return backup.Stats{}, err
	}
	defer src.Close()
	if err := checkRootKey(ctx, src, sealer); err != nil {
		return backup.Stats{}, fmt.Errorf("migrate: source store: %w", err)
	}
	dst, err := OpenStore(ctx, cfg)
	if err != nil {
		return backup.Stats{}, err
	}
	defer dst.Close()
	st, err := backup.Copy(ctx, src, dst)
	if err != nil {
		return st, err
	}
	if err := checkRootKey(ctx, dst, sealer); err != nil {
		return st, fmt.Errorf("migrate: target store: %w", err)
	}
	return st, nil
}

// openExistingRootKey opens the root key cfg names. A file root key must
// exist: restore and migrate must never create a new one.
func openExistingRootKey(ctx context.Context, cfg config.Server) (rootkey.Sealer, error) {
	if cfg.RootKeyProvider != "pkcs11" {
		path := RootKeyPath(cfg)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("root key file %s does not exist (restore and migrate never create a root key)", path)
		}
	}
	provider, err := RootKeyProvider(cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := provider.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening root key (%s): %w", provider.Name(), err)
	}
	return sealer, nil
}

// AdminExplainPath answers `openkms admin policy explain`: GET with query
// parameters principal (an ARN), action, key (a key ARN, optional), region
// (for operations without a key) and condition (repeated "key=value").
const AdminExplainPath = AdminPathPrefix + "explain"

// ServeHTTP implements http.Handler.
func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.serve(w, r) }

func (a *admin) explainRequest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := principalFromARN(q.Get("principal"))
	if err != nil {
		a.writeError(w, r, kmserr.New(kmserr.Validation, "%v", err))
		return
	}
	action := q.Get("action")
	if !strings.HasPrefix(action, "kms:") || len(action) > 128 {
		a.writeError(w, r, kmserr.New(kmserr.Validation, "action must be a kms: action such as kms:Encrypt"))
		return
	}
	conds := map[string][]string{}
	for _, kv := range q["condition"] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(conds) > 64 {
			a.writeError(w, r, kmserr.New(kmserr.Validation, "condition must be key=value"))
			return
		}
		conds[k] = append(conds[k], v)
	}
	region := q.Get("region")
	if region == "" {
		region = "us-east-1"
	}
	e, err := a.explain(r.Context(), p, region, action, q.Get("key"), conds)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(e)
}

// principalFromARN builds the principal an ARN names: an account root, an
// IAM user, or an assumed-role session. (Principal tags are not looked up;
// pass aws:PrincipalTag/... as conditions.)
func principalFromARN(s string) (principal.Principal, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || len(parts[4]) != 12 {
		return principal.Principal{}, errors.New("principal must be an IAM or STS ARN")
	}
	acct, res := parts[4], parts[5]
	p := principal.Principal{Account: acct, ARN: s}
	switch {
	case parts[2] == "iam" && res == "root":
		p.Type, p.UserID = principal.TypeRoot, acct
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		p.Type = principal.TypeIAMUser
		p.UserName = res[strings.LastIndexByte(res, '/')+1:]
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		f := strings.Split(res, "/")
		if len(f) != 3 {
			return principal.Principal{}, errors.New("assumed-role ARNs look like arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION")
		}
		p.Type, p.RoleARN, p.SessionName = principal.TypeAssumedRole, "arn:aws:iam::"+acct+":role/"+f[1], f[2]
	default:
		return principal.Principal{}, errors.New("principal must be an account root, IAM user or assumed-role session ARN")
	}
	return p, nil
}
