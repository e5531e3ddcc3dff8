package com.maddatum.boss.web;

/** Paging parameters shared by every listing. */
public final class Paging {

    private Paging() {}

    /** Returns the page size to use, or names the parameter that is out of range. */
    public static int checkPage(int page, int size, int maxSize) {
        if (page < 0) {
            throw ApiProblem.invalidField("page", "page must be 0 or more.");
        }
        return checkRange("size", size, 1, maxSize);
    }

    /** Returns {@code value}, or names the parameter when it lies outside {@code min..max}. */
    public static int checkRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw ApiProblem.invalidField(name, name + " must be between " + min + " and " + max + ".");
        }
        return value;
    }
}
