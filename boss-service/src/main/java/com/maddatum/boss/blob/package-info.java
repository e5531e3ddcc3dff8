/**
 * Content-addressed bytes: datasets' versions and jobs' artifacts are stored here once, under their
 * SHA-256, whatever the number of names that refer to them. {@link BlobStore} is the one contract; the
 * embedded store keeps blobs on the Boss's disk, a real MongoDB in GridFS. Features that refer to
 * blobs say so through {@link BlobReferences}, so unreferenced blobs can be collected without this
 * package knowing about datasets or jobs.
 */
package com.maddatum.boss.blob;
