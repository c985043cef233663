package api

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
)

// This file holds the AWS KMS wire types: the JSON shapes of requests and
// responses, field for field as the AWS KMS API reference names them. They
// exist only at the edge; the service core has its own types.

// epochTime is a timestamp on the wire: seconds since the epoch as a JSON
// number with millisecond precision, as AWS JSON 1.1 encodes timestamps.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds (integer or fractional), as the SDKs
// send timestamps.
func (t *epochTime) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return &json.UnmarshalTypeError{Value: "timestamp", Type: reflect.TypeFor[epochTime]()}
	}
	sec, frac := math.Modf(f)
	*t = epochTime(time.Unix(int64(sec), int64(frac*1e9)).UTC())
	return nil
}

func (t *epochTime) time() time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Time(*t)
}

func epoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

type tag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

type keyMetadata struct {
	AWSAccountID           string     `json:"AWSAccountId"`
	KeyID                  string     `json:"KeyId"`
	Arn                    string     `json:"Arn"`
	CreationDate           *epochTime `json:"CreationDate,omitempty"`
	Enabled                bool       `json:"Enabled"`
	Description            string     `json:"Description"`
	KeyUsage               string     `json:"KeyUsage"`
	KeyState               string     `json:"KeyState"`
	DeletionDate           *epochTime `json:"DeletionDate,omitempty"`
	PendingDeletionWindow  int        `json:"PendingDeletionWindowInDays,omitempty"`
	Origin                 string     `json:"Origin"`
	KeyManager             string     `json:"KeyManager"`
	CustomerMasterKeySpec  string     `json:"CustomerMasterKeySpec"`
	KeySpec                string     `json:"KeySpec"`
	EncryptionAlgorithms   []string   `json:"EncryptionAlgorithms,omitempty"`
	MultiRegion            bool       `json:"MultiRegion"`
	CurrentKeyMaterialID   string     `json:"CurrentKeyMaterialId,omitempty"`
	ExpirationModel        string     `json:"ExpirationModel,omitempty"`
	CustomKeyStoreID       string     `json:"CustomKeyStoreId,omitempty"`
	CloudHsmClusterID      string     `json:"CloudHsmClusterId,omitempty"`
	SigningAlgorithms      []string   `json:"SigningAlgorithms,omitempty"`
	MacAlgorithms          []string   `json:"MacAlgorithms,omitempty"`
	KeyAgreementAlgorithms []string   `json:"KeyAgreementAlgorithms,omitempty"`
	ValidTo                *epochTime `json:"ValidTo,omitempty"`
}

type createKeyRequest struct {
	Policy                         *string `json:"Policy"`
	Description                    *string `json:"Description"`
	KeyUsage                       string  `json:"KeyUsage"`
	CustomerMasterKeySpec          string  `json:"CustomerMasterKeySpec"`
	KeySpec                        string  `json:"KeySpec"`
	Origin                         string  `json:"Origin"`
	CustomKeyStoreID               string  `json:"CustomKeyStoreId"`
	BypassPolicyLockoutSafetyCheck bool    `json:"BypassPolicyLockoutSafetyCheck"`
	Tags                           []tag   `json:"Tags"`
	MultiRegion                    bool    `json:"MultiRegion"`
	XksKeyID                       string  `json:"XksKeyId"`
}

type keyMetadataResponse struct {
	KeyMetadata keyMetadata `json:"KeyMetadata"`
}

type keyIDRequest struct {
	KeyID       string   `json:"KeyId"`
	GrantTokens []string `json:"GrantTokens"`
}

type listRequest struct {
	KeyID  string `json:"KeyId"`
	Limit  *int   `json:"Limit"`
	Marker string `json:"Marker"`
}

type keyListEntry struct {
	KeyID  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

type listKeysResponse struct {
	Keys       []keyListEntry `json:"Keys"`
	NextMarker string         `json:"NextMarker,omitempty"`
	Truncated  bool           `json:"Truncated"`
}

type updateKeyDescriptionRequest struct {
	KeyID       string  `json:"KeyId"`
	Description *string `json:"Description"`
}

type scheduleKeyDeletionRequest struct {
	KeyID               string `json:"KeyId"`
	PendingWindowInDays *int   `json:"PendingWindowInDays"`
}

type scheduleKeyDeletionResponse struct {
	KeyID               string     `json:"KeyId"`
	DeletionDate        *epochTime `json:"DeletionDate,omitempty"`
	KeyState            string     `json:"KeyState"`
	PendingWindowInDays int        `json:"PendingWindowInDays"`
}

type keyIDResponse struct {
	KeyID string `json:"KeyId"`
}

type aliasRequest struct {
	AliasName   string `json:"AliasName"`
	TargetKeyID string `json:"TargetKeyId"`
}

type aliasListEntry struct {
	AliasName       string     `json:"AliasName"`
	AliasArn        string     `json:"AliasArn"`
	TargetKeyID     string     `json:"TargetKeyId,omitempty"`
	CreationDate    *epochTime `json:"CreationDate,omitempty"`
	LastUpdatedDate *epochTime `json:"LastUpdatedDate,omitempty"`
}

type listAliasesResponse struct {
	Aliases    []aliasListEntry `json:"Aliases"`
	NextMarker string           `json:"NextMarker,omitempty"`
	Truncated  bool             `json:"Truncated"`
}

type tagResourceRequest struct {
	KeyID string `json:"KeyId"`
	Tags  []tag  `json:"Tags"`
}

type untagResourceRequest struct {
	KeyID   string   `json:"KeyId"`
	TagKeys []string `json:"TagKeys"`
}

type listResourceTagsResponse struct {
	Tags       []tag  `json:"Tags"`
	NextMarker string `json:"NextMarker,omitempty"`
	Truncated  bool   `json:"Truncated"`
}

type encryptRequest struct {
	KeyID               string            `json:"KeyId"`
	Plaintext           []byte            `json:"Plaintext"`
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	GrantTokens         []string          `json:"GrantTokens"`
	EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
	DryRun              bool              `json:"DryRun"`
}

type encryptResponse struct {
	CiphertextBlob      []byte `json:"CiphertextBlob"`
	KeyID               string `json:"KeyId"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

type decryptRequest struct {
	CiphertextBlob      []byte            `json:"CiphertextBlob"`
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	GrantTokens         []string          `json:"GrantTokens"`
	KeyID               string            `json:"KeyId"`
	EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
	Recipient           *struct{}         `json:"Recipient"`
	DryRun              bool              `json:"DryRun"`
}

type decryptResponse struct {
	KeyID               string `json:"KeyId"`
	Plaintext           []byte `json:"Plaintext"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
	KeyMaterialID       string `json:"KeyMaterialId,omitempty"`
}

type reEncryptRequest struct {
	CiphertextBlob                 []byte            `json:"CiphertextBlob"`
	SourceEncryptionContext        map[string]string `json:"SourceEncryptionContext"`
	SourceKeyID                    string            `json:"SourceKeyId"`
	DestinationKeyID               string            `json:"DestinationKeyId"`
	DestinationEncryptionContext   map[string]string `json:"DestinationEncryptionContext"`
	SourceEncryptionAlgorithm      string            `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm string            `json:"DestinationEncryptionAlgorithm"`
	GrantTokens                    []string          `json:"GrantTokens"`
	DryRun                         bool              `json:"DryRun"`
}

type reEncryptResponse struct {
	CiphertextBlob                 []byte `json:"CiphertextBlob"`
	SourceKeyID                    string `json:"SourceKeyId"`
	KeyID                          string `json:"KeyId"`
	SourceEncryptionAlgorithm      string `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm string `json:"DestinationEncryptionAlgorithm"`
	SourceKeyMaterialID            string `json:"SourceKeyMaterialId,omitempty"`
	DestinationKeyMaterialID       string `json:"DestinationKeyMaterialId,omitempty"`
}

type generateDataKeyRequest struct {
	KeyID             string            `json:"KeyId"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
	NumberOfBytes     *int              `json:"NumberOfBytes"`
	KeySpec           string            `json:"KeySpec"`
	GrantTokens       []string          `json:"GrantTokens"`
	Recipient         *struct{}         `json:"Recipient"`
	DryRun            bool              `json:"DryRun"`
}

type generateDataKeyResponse struct {
	CiphertextBlob []byte `json:"CiphertextBlob"`
	Plaintext      []byte `json:"Plaintext,omitempty"`
	KeyID          string `json:"KeyId"`
	KeyMaterialID  string `json:"KeyMaterialId,omitempty"`
}

type generateRandomRequest struct {
	NumberOfBytes    *int      `json:"NumberOfBytes"`
	CustomKeyStoreID string    `json:"CustomKeyStoreId"`
	Recipient        *struct{} `json:"Recipient"`
}

type generateRandomResponse struct {
	Plaintext []byte `json:"Plaintext"`
}

type keyPolicyRequest struct {
	KeyID                          string  `json:"KeyId"`
	PolicyName                     *string `json:"PolicyName"`
	Policy                         *string `json:"Policy"`
	BypassPolicyLockoutSafetyCheck bool    `json:"BypassPolicyLockoutSafetyCheck"`
}

type getKeyPolicyResponse struct {
	Policy     string `json:"Policy"`
	PolicyName string `json:"PolicyName"`
}

type listKeyPoliciesResponse struct {
	PolicyNames []string `json:"PolicyNames"`
	Truncated   bool     `json:"Truncated"`
}

type empty struct{}

type enableKeyRotationRequest struct {
	KeyID                string `json:"KeyId"`
	RotationPeriodInDays *int   `json:"RotationPeriodInDays"`
}

type getKeyRotationStatusResponse struct {
	KeyID                     string     `json:"KeyId"`
	KeyRotationEnabled        bool       `json:"KeyRotationEnabled"`
	RotationPeriodInDays      *int       `json:"RotationPeriodInDays,omitempty"`
	NextRotationDate          *epochTime `json:"NextRotationDate,omitempty"`
	OnDemandRotationStartDate *epochTime `json:"OnDemandRotationStartDate,omitempty"`
}

type listKeyRotationsRequest struct {
	KeyID              string `json:"KeyId"`
	IncludeKeyMaterial string `json:"IncludeKeyMaterial"`
	Limit              *int   `json:"Limit"`
	Marker             string `json:"Marker"`
}

type rotationsListEntry struct {
	KeyID                  string     `json:"KeyId"`
	RotationDate           *epochTime `json:"RotationDate,omitempty"`
	RotationType           string     `json:"RotationType,omitempty"`
	KeyMaterialID          string     `json:"KeyMaterialId,omitempty"`
	KeyMaterialDescription string     `json:"KeyMaterialDescription,omitempty"`
	ImportState            string     `json:"ImportState,omitempty"`
	KeyMaterialState       string     `json:"KeyMaterialState,omitempty"`
	ExpirationModel        string     `json:"ExpirationModel,omitempty"`
	ValidTo                *epochTime `json:"ValidTo,omitempty"`
}

type listKeyRotationsResponse struct {
	Rotations  []rotationsListEntry `json:"Rotations"`
	NextMarker string               `json:"NextMarker,omitempty"`
	Truncated  bool                 `json:"Truncated"`
}

type getParametersForImportRequest struct {
	KeyID             string `json:"KeyId"`
	WrappingAlgorithm string `json:"WrappingAlgorithm"`
	WrappingKeySpec   string `json:"WrappingKeySpec"`
}

type getParametersForImportResponse struct {
	KeyID             string     `json:"KeyId"`
	ImportToken       []byte     `json:"ImportToken"`
	PublicKey         []byte     `json:"PublicKey"`
	ParametersValidTo *epochTime `json:"ParametersValidTo,omitempty"`
}

type importKeyMaterialRequest struct {
	KeyID                  string     `json:"KeyId"`
	ImportToken            []byte     `json:"ImportToken"`
	EncryptedKeyMaterial   []byte     `json:"EncryptedKeyMaterial"`
	ValidTo                *epochTime `json:"ValidTo"`
	ExpirationModel        string     `json:"ExpirationModel"`
	ImportType             string     `json:"ImportType"`
	KeyMaterialDescription string     `json:"KeyMaterialDescription"`
	KeyMaterialID          string     `json:"KeyMaterialId"`
}

type keyMaterialResponse struct {
	KeyID         string `json:"KeyId"`
	KeyMaterialID string `json:"KeyMaterialId,omitempty"`
}

type deleteImportedKeyMaterialRequest struct {
	KeyID         string `json:"KeyId"`
	KeyMaterialID string `json:"KeyMaterialId"`
}

type signRequest struct {
	KeyID            string   `json:"KeyId"`
	Message          []byte   `json:"Message"`
	MessageType      string   `json:"MessageType"`
	SigningAlgorithm string   `json:"SigningAlgorithm"`
	Signature        []byte   `json:"Signature"`
	GrantTokens      []string `json:"GrantTokens"`
	DryRun           bool     `json:"DryRun"`
}

type signResponse struct {
	KeyID            string `json:"KeyId"`
	Signature        []byte `json:"Signature"`
	SigningAlgorithm string `json:"SigningAlgorithm"`
}

type verifyResponse struct {
	KeyID            string `json:"KeyId"`
	SignatureValid   bool   `json:"SignatureValid"`
	SigningAlgorithm string `json:"SigningAlgorithm"`
}

type getPublicKeyResponse struct {
	KeyID                  string   `json:"KeyId"`
	PublicKey              []byte   `json:"PublicKey"`
	CustomerMasterKeySpec  string   `json:"CustomerMasterKeySpec"`
	KeySpec                string   `json:"KeySpec"`
	KeyUsage               string   `json:"KeyUsage"`
	EncryptionAlgorithms   []string `json:"EncryptionAlgorithms,omitempty"`
	SigningAlgorithms      []string `json:"SigningAlgorithms,omitempty"`
	KeyAgreementAlgorithms []string `json:"KeyAgreementAlgorithms,omitempty"`
}

type macRequest struct {
	KeyID        string   `json:"KeyId"`
	Message      []byte   `json:"Message"`
	MacAlgorithm string   `json:"MacAlgorithm"`
	Mac          []byte   `json:"Mac"`
	GrantTokens  []string `json:"GrantTokens"`
	DryRun       bool     `json:"DryRun"`
}

type generateMacResponse struct {
	Mac          []byte `json:"Mac"`
	MacAlgorithm string `json:"MacAlgorithm"`
	KeyID        string `json:"KeyId"`
}

type verifyMacResponse struct {
	KeyID        string `json:"KeyId"`
	MacValid     bool   `json:"MacValid"`
	MacAlgorithm string `json:"MacAlgorithm"`
}

type deriveSharedSecretRequest struct {
	KeyID                 string    `json:"KeyId"`
	KeyAgreementAlgorithm string    `json:"KeyAgreementAlgorithm"`
	PublicKey             []byte    `json:"PublicKey"`
	GrantTokens           []string  `json:"GrantTokens"`
	DryRun                bool      `json:"DryRun"`
	Recipient             *struct{} `json:"Recipient"`
}

type deriveSharedSecretResponse struct {
	KeyID                 string `json:"KeyId"`
	SharedSecret          []byte `json:"SharedSecret"`
	KeyAgreementAlgorithm string `json:"KeyAgreementAlgorithm"`
	KeyOrigin             string `json:"KeyOrigin"`
}

type generateDataKeyPairRequest struct {
	EncryptionContext map[string]string `json:"EncryptionContext"`
	KeyID             string            `json:"KeyId"`
	KeyPairSpec       string            `json:"KeyPairSpec"`
	GrantTokens       []string          `json:"GrantTokens"`
	Recipient         *struct{}         `json:"Recipient"`
	DryRun            bool              `json:"DryRun"`
}

type generateDataKeyPairResponse struct {
	PrivateKeyCiphertextBlob []byte `json:"PrivateKeyCiphertextBlob"`
	PrivateKeyPlaintext      []byte `json:"PrivateKeyPlaintext,omitempty"`
	PublicKey                []byte `json:"PublicKey"`
	KeyID                    string `json:"KeyId"`
	KeyPairSpec              string `json:"KeyPairSpec"`
	KeyMaterialID            string `json:"KeyMaterialId,omitempty"`
}

type grantConstraints struct {
	EncryptionContextSubset map[string]string `json:"EncryptionContextSubset,omitempty"`
	EncryptionContextEquals map[string]string `json:"EncryptionContextEquals,omitempty"`
}

type createGrantRequest struct {
	KeyID             string            `json:"KeyId"`
	GranteePrincipal  string            `json:"GranteePrincipal"`
	RetiringPrincipal string            `json:"RetiringPrincipal"`
	Operations        []string          `json:"Operations"`
	Constraints       *grantConstraints `json:"Constraints"`
	GrantTokens       []string          `json:"GrantTokens"`
	Name              string            `json:"Name"`
	DryRun            bool              `json:"DryRun"`
}

type createGrantResponse struct {
	GrantToken string `json:"GrantToken"`
	GrantID    string `json:"GrantId"`
}

type listGrantsRequest struct {
	KeyID             string `json:"KeyId"`
	GrantID           string `json:"GrantId"`
	GranteePrincipal  string `json:"GranteePrincipal"`
	RetiringPrincipal string `json:"RetiringPrincipal"`
	Limit             *int   `json:"Limit"`
	Marker            string `json:"Marker"`
}

type grantListEntry struct {
	KeyID             string            `json:"KeyId"`
	GrantID           string            `json:"GrantId"`
	Name              string            `json:"Name,omitempty"`
	CreationDate      *epochTime        `json:"CreationDate,omitempty"`
	GranteePrincipal  string            `json:"GranteePrincipal"`
	RetiringPrincipal string            `json:"RetiringPrincipal,omitempty"`
	IssuingAccount    string            `json:"IssuingAccount"`
	Operations        []string          `json:"Operations"`
	Constraints       *grantConstraints `json:"Constraints,omitempty"`
}

type listGrantsResponse struct {
	Grants     []grantListEntry `json:"Grants"`
	NextMarker string           `json:"NextMarker,omitempty"`
	Truncated  bool             `json:"Truncated"`
}

type retireGrantRequest struct {
	GrantToken string `json:"GrantToken"`
	KeyID      string `json:"KeyId"`
	GrantID    string `json:"GrantId"`
	DryRun     bool   `json:"DryRun"`
}

type keyLastUsage struct {
	Operation         string     `json:"Operation,omitempty"`
	Timestamp         *epochTime `json:"Timestamp,omitempty"`
	CloudTrailEventID string     `json:"CloudTrailEventId,omitempty"`
	KMSRequestID      string     `json:"KmsRequestId,omitempty"`
}

type getKeyLastUsageResponse struct {
	KeyID             string        `json:"KeyId"`
	KeyLastUsage      *keyLastUsage `json:"KeyLastUsage,omitempty"`
	TrackingStartDate *epochTime    `json:"TrackingStartDate,omitempty"`
	KeyCreationDate   *epochTime    `json:"KeyCreationDate,omitempty"`
}

// Custom key stores.

type createCustomKeyStoreRequest struct {
	CustomKeyStoreName     string `json:"CustomKeyStoreName"`
	CloudHsmClusterID      string `json:"CloudHsmClusterId"`
	TrustAnchorCertificate string `json:"TrustAnchorCertificate"`
	KeyStorePassword       string `json:"KeyStorePassword"`
	CustomKeyStoreType     string `json:"CustomKeyStoreType"`
}

type customKeyStoreIDRequest struct {
	CustomKeyStoreID string `json:"CustomKeyStoreId"`
}

type customKeyStoreIDResponse struct {
	CustomKeyStoreID string `json:"CustomKeyStoreId"`
}

type describeCustomKeyStoresRequest struct {
	CustomKeyStoreID   string `json:"CustomKeyStoreId"`
	CustomKeyStoreName string `json:"CustomKeyStoreName"`
	Limit              *int   `json:"Limit"`
	Marker             string `json:"Marker"`
}

type customKeyStoresListEntry struct {
	CustomKeyStoreID       string     `json:"CustomKeyStoreId"`
	CustomKeyStoreName     string     `json:"CustomKeyStoreName"`
	CloudHsmClusterID      string     `json:"CloudHsmClusterId,omitempty"`
	TrustAnchorCertificate string     `json:"TrustAnchorCertificate,omitempty"`
	ConnectionState        string     `json:"ConnectionState"`
	ConnectionErrorCode    string     `json:"ConnectionErrorCode,omitempty"`
	CreationDate           *epochTime `json:"CreationDate,omitempty"`
	CustomKeyStoreType     string     `json:"CustomKeyStoreType"`
}

type describeCustomKeyStoresResponse struct {
	CustomKeyStores []customKeyStoresListEntry `json:"CustomKeyStores"`
	NextMarker      string                     `json:"NextMarker,omitempty"`
	Truncated       bool                       `json:"Truncated"`
}

type updateCustomKeyStoreRequest struct {
	CustomKeyStoreID      string `json:"CustomKeyStoreId"`
	NewCustomKeyStoreName string `json:"NewCustomKeyStoreName"`
	KeyStorePassword      string `json:"KeyStorePassword"`
	CloudHsmClusterID     string `json:"CloudHsmClusterId"`
}
