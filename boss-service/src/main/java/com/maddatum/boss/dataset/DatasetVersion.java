package com.maddatum.boss.dataset;

import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bson.Document;

/**
 * One version of a dataset: the bytes ({@code sha256}, a blob) a name referred to from {@code createdAt}.
 * {@code columns} and {@code rows} are there for CSV files only ({@code columns} null too when the header
 * was too long to keep).
 */
public record DatasetVersion(String name, int version, String sha256, long size, Instant createdAt,
        List<String> columns, Long rows) {

    static final String NAME = "name";
    static final String VERSION = "version";
    static final String SHA256 = "sha256";
    static final String SIZE = "size";
    static final String CREATED_AT = "createdAt";
    static final String COLUMNS = "columns";
    static final String ROWS = "rows";

    public boolean isCsv() {
        return rows != null;
    }

    Document toDocument() {
        Document d = new Document(NAME, name).append(VERSION, version).append(SHA256, sha256).append(SIZE, size)
                .append(CREATED_AT, Date.from(createdAt));
        if (columns != null) {
            d.append(COLUMNS, columns);
        }
        if (rows != null) {
            d.append(ROWS, rows);
        }
        return d;
    }

    static DatasetVersion fromDocument(Document d) {
        Number rows = d.get(ROWS, Number.class);
        return new DatasetVersion(d.getString(NAME), d.getInteger(VERSION), d.getString(SHA256),
                d.get(SIZE, Number.class).longValue(), d.getDate(CREATED_AT).toInstant(),
                d.getList(COLUMNS, String.class), rows == null ? null : rows.longValue());
    }
}
