// Package s3 is an evidence.Backend that keeps ciphertext blobs in an
// S3-compatible bucket (AWS S3, MinIO, versitygw, Ceph RGW…), using
// github.com/minio/minio-go/v7.
//
// Objects are named Prefix + key. Uploads stream with unknown size as
// multipart uploads of PartSize bytes, so memory stays bounded whatever the
// size of the item; an upload that fails is aborted and never becomes
// visible.
package s3
