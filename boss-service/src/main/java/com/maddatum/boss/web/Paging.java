package com.maddatum.boss.web;

/** Paging parameters shared by every listing. */
public final class Paging {

    private Paging() {}

    /** Returns the page size to use, or names the parameter that is out of range. */
    public static int checkPage(int page, int size, int maxSize) {
        if (page < 0) {
            throw ApiProblem.invalidField("page", "page must be 0 or more.");
        }
        if (size < 1 || size > maxSize) {
            throw ApiProblem.invalidField("size", "size must be between 1 and " + maxSize + ".");
        }
        return size;
    }
}
