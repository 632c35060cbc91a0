package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Where finished recordings are kept: a directory (the default) or an S3-compatible bucket,
// behind recordingStore. Keys are slash-separated paths under the store's root,
// "<org>/<conv>/<call>/<name>" (recording.go). Uploads in progress are never in the store: the hub
// assembles each on local disk (the staging directory), resumable from its size, and moves the
// finished file in only once its SHA-256 matched — so the resume protocol is the same for both
// stores, and a bucket never holds half a file.

// recordingStore keeps finished recording files and their small records.
type recordingStore interface {
	// Put moves the finished local file at src to key (src is gone afterwards).
	Put(ctx context.Context, key, src string) error
	// WriteSmall stores a small record (recording.json, a checksum).
	WriteSmall(ctx context.Context, key string, b []byte) error
	// ReadSmall reads a small record; fs.ErrNotExist when there is none.
	ReadSmall(ctx context.Context, key string) ([]byte, error)
	// Stat is a key's size and time; fs.ErrNotExist when there is none.
	Stat(ctx context.Context, key string) (size int64, mod time.Time, err error)
	// Open opens a key for reading and seeking (a player's ranges).
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// List lists every key under prefix ("" for all; a prefix ends with /).
	List(ctx context.Context, prefix string) ([]string, error)
	// DeleteAll deletes every key under prefix.
	DeleteAll(ctx context.Context, prefix string) error
	// String says where the store is, without secrets.
	String() string
}

// diskStore keeps recordings in a directory tree.
type diskStore struct{ root string }

func (d diskStore) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

func (d diskStore) Put(_ context.Context, key, src string) error {
	if err := os.MkdirAll(filepath.Dir(d.path(key)), 0o750); err != nil {
		return err
	}
	return os.Rename(src, d.path(key))
}

func (d diskStore) WriteSmall(_ context.Context, key string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(d.path(key)), 0o750); err != nil {
		return err
	}
	return os.WriteFile(d.path(key), b, 0o640)
}

func (d diskStore) ReadSmall(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(d.path(key))
}

func (d diskStore) Stat(_ context.Context, key string) (int64, time.Time, error) {
	st, err := os.Stat(d.path(key))
	if err != nil {
		return 0, time.Time{}, err
	}
	return st.Size(), st.ModTime(), nil
}

func (d diskStore) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	return os.Open(d.path(key))
}

func (d diskStore) List(_ context.Context, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(d.path(prefix), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !e.IsDir() {
			rel, _ := filepath.Rel(d.root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

func (d diskStore) DeleteAll(_ context.Context, prefix string) error {
	return os.RemoveAll(d.path(prefix))
}

func (d diskStore) String() string { return d.root }

// S3Config is an S3-compatible bucket for recordings (-recordings s3://bucket/prefix).
type S3Config struct {
	// Bucket and Prefix: where the recordings go (Prefix may be empty).
	Bucket, Prefix string
	// Endpoint is the service's host[:port] (default s3.amazonaws.com); Region its region.
	Endpoint, Region string
	// AccessKey and SecretKey sign the requests; never logged.
	AccessKey, SecretKey string
	// Insecure speaks plain HTTP to the endpoint (a test server, a bucket on the same host).
	Insecure bool
}

// ParseS3URL reads s3://bucket/prefix into c's Bucket and Prefix.
func ParseS3URL(u string) (S3Config, error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return S3Config{}, fmt.Errorf("recordings %q: write s3://bucket or s3://bucket/prefix", u)
	}
	return S3Config{Bucket: bucket, Prefix: strings.Trim(prefix, "/")}, nil
}

// s3Store keeps recordings in a bucket.
type s3Store struct {
	c   *minio.Client
	cfg S3Config
}

func newS3Store(cfg S3Config) (*s3Store, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = "s3.amazonaws.com"
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("recordings bucket at %s: %w", cfg.Endpoint, err)
	}
	return &s3Store{c: c, cfg: cfg}, nil
}

// check reports whether the bucket is there and the keys may use it.
func (s *s3Store) check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("recordings bucket %s: %w", s, err)
	}
	if !ok {
		return fmt.Errorf("recordings bucket %s does not exist", s)
	}
	return nil
}

func (s *s3Store) key(k string) string {
	if s.cfg.Prefix == "" {
		return k
	}
	return s.cfg.Prefix + "/" + k
}

// notExist maps S3's "no such key" to fs.ErrNotExist.
func notExist(err error) error {
	if err != nil && minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return fs.ErrNotExist
	}
	return err
}

func (s *s3Store) Put(ctx context.Context, key, src string) error {
	// minio-go sends a large file in parts itself; the local file goes once the bucket has it.
	if _, err := s.c.FPutObject(ctx, s.cfg.Bucket, s.key(key), src, minio.PutObjectOptions{ContentType: recordingTypes[path.Ext(key)]}); err != nil {
		return err
	}
	return os.Remove(src)
}

func (s *s3Store) WriteSmall(ctx context.Context, key string, b []byte) error {
	_, err := s.c.PutObject(ctx, s.cfg.Bucket, s.key(key), strings.NewReader(string(b)), int64(len(b)), minio.PutObjectOptions{})
	return err
}

func (s *s3Store) ReadSmall(ctx context.Context, key string) ([]byte, error) {
	o, err := s.c.GetObject(ctx, s.cfg.Bucket, s.key(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, notExist(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	return b, notExist(err)
}

func (s *s3Store) Stat(ctx context.Context, key string) (int64, time.Time, error) {
	st, err := s.c.StatObject(ctx, s.cfg.Bucket, s.key(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, time.Time{}, notExist(err)
	}
	return st.Size, st.LastModified, nil
}

func (s *s3Store) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	// A minio Object reads lazily and seeks with ranged GETs: a player's range is one request.
	o, err := s.c.GetObject(ctx, s.cfg.Bucket, s.key(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, notExist(err)
	}
	if _, err := o.Stat(); err != nil {
		o.Close()
		return nil, notExist(err)
	}
	return o, nil
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for o := range s.c.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.key(prefix), Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		k := o.Key
		if s.cfg.Prefix != "" {
			k = strings.TrimPrefix(k, s.cfg.Prefix+"/")
		}
		out = append(out, k)
	}
	return out, nil
}

func (s *s3Store) DeleteAll(ctx context.Context, prefix string) error {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.c.RemoveObject(ctx, s.cfg.Bucket, s.key(k), minio.RemoveObjectOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (s *s3Store) String() string {
	return "s3://" + path.Join(s.cfg.Bucket, s.cfg.Prefix) + " at " + s.cfg.Endpoint
}

// openRecordings opens where recordings are kept: the bucket of Config.RecordingsS3 (checked to
// exist, with uploads assembled in the staging directory), else the recordings directory.
func (s *Server) openRecordings(ctx context.Context) error {
	if s.cfg.RecordingsS3 != nil {
		if s.recordingsDir() == "" {
			return errors.New("hub: recordings in a bucket need a local directory to assemble uploads in (Config.RecordingsDir)")
		}
		st, err := newS3Store(*s.cfg.RecordingsS3)
		if err != nil {
			return err
		}
		if err := st.check(ctx); err != nil {
			return err
		}
		s.recs = st
		s.log.Info("recordings kept in a bucket", "store", st.String(), "staging", s.recordingsDir())
		return nil
	}
	if dir := s.recordingsDir(); dir != "" {
		s.recs = diskStore{root: dir}
	}
	return nil
}
