package iamapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/identity"
)

// Wire types: the XML shapes of the IAM and STS results, named and ordered
// as the botocore service models name them. Internal types are converted
// to these in one place each.

// members is a list as the Query protocol encodes it: <member> elements
// inside the list's element, which is present even when empty.
type members[T any] struct {
	Member []T `xml:"member"`
}

type xTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xUser struct {
	Path       string         `xml:"Path,omitempty"`
	UserName   string         `xml:"UserName,omitempty"`
	UserID     string         `xml:"UserId"`
	Arn        string         `xml:"Arn"`
	CreateDate string         `xml:"CreateDate"`
	Tags       *members[xTag] `xml:"Tags,omitempty"`
}

type xRole struct {
	Path                     string         `xml:"Path"`
	RoleName                 string         `xml:"RoleName"`
	RoleID                   string         `xml:"RoleId"`
	Arn                      string         `xml:"Arn"`
	CreateDate               string         `xml:"CreateDate"`
	AssumeRolePolicyDocument string         `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string         `xml:"Description,omitempty"`
	MaxSessionDuration       int            `xml:"MaxSessionDuration"`
	Tags                     *members[xTag] `xml:"Tags,omitempty"`
}

type xPolicy struct {
	PolicyName                    string         `xml:"PolicyName"`
	PolicyID                      string         `xml:"PolicyId"`
	Arn                           string         `xml:"Arn"`
	Path                          string         `xml:"Path"`
	DefaultVersionID              string         `xml:"DefaultVersionId"`
	AttachmentCount               int            `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int            `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool           `xml:"IsAttachable"`
	Description                   string         `xml:"Description,omitempty"`
	CreateDate                    string         `xml:"CreateDate"`
	UpdateDate                    string         `xml:"UpdateDate"`
	Tags                          *members[xTag] `xml:"Tags,omitempty"`
}

type xPolicyVersion struct {
	Document         string `xml:"Document"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

type xAccessKey struct {
	UserName        string `xml:"UserName"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string `xml:"Status"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	CreateDate      string `xml:"CreateDate"`
}

type xAccessKeyMetadata struct {
	UserName    string `xml:"UserName"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

type xAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// page is the pagination part of a List result.
type page struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

const timeLayout = "2006-01-02T15:04:05Z"

func isoTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func wireTags(tags []identity.Tag) *members[xTag] {
	if len(tags) == 0 {
		return nil
	}
	out := &members[xTag]{Member: make([]xTag, len(tags))}
	for i, t := range tags {
		out.Member[i] = xTag{Key: t.Key, Value: t.Value}
	}
	return out
}

func wireTagList(tags []identity.Tag) members[xTag] {
	out := members[xTag]{Member: make([]xTag, len(tags))}
	for i, t := range tags {
		out.Member[i] = xTag{Key: t.Key, Value: t.Value}
	}
	return out
}

func wireUser(u identity.User, withTags bool) xUser {
	x := xUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: isoTime(u.Created)}
	if withTags {
		x.Tags = wireTags(u.Tags)
	}
	return x
}

func wireRole(r identity.Role, withTags bool) xRole {
	x := xRole{
		Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN, CreateDate: isoTime(r.Created),
		AssumeRolePolicyDocument: encodePolicy(r.TrustPolicy), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration,
	}
	if withTags {
		x.Tags = wireTags(r.Tags)
	}
	return x
}

func wirePolicy(p identity.ManagedPolicy, withTags bool) xPolicy {
	x := xPolicy{
		PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, Description: p.Description,
		CreateDate: isoTime(p.Created), UpdateDate: isoTime(p.Updated),
	}
	if withTags {
		x.Tags = wireTags(p.Tags)
	}
	return x
}

// encodePolicy percent-encodes a policy document as IAM returns documents
// (RFC 3986: everything but unreserved characters). Both
// url.QueryUnescape and Python's unquote decode it exactly.
func encodePolicy(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// writeResult writes <ActionResponse xmlns=...><ActionResult>result</ActionResult>
// <ResponseMetadata>...</ResponseMetadata></ActionResponse>.
func writeResult(w http.ResponseWriter, op *operation, result any, reqID string) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{
		Name: xml.Name{Local: op.name + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: op.service.namespace()}},
	}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op.name + "Result"}}); err != nil {
			return err
		}
	}
	if err := enc.EncodeElement(responseMetadata{RequestID: reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return err
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}
