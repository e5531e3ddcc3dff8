package com.maddatum.boss.blob;

import java.util.Set;

/**
 * A feature that refers to blobs (datasets' versions, jobs' data and artifacts) says which ones, so a
 * blob nobody refers to can be collected. Every bean of this type is asked; a blob is kept while any
 * of them names it.
 */
public interface BlobReferences {

    /** The hashes this feature still needs. */
    Set<String> referenced();
}
