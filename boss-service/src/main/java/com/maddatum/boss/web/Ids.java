package com.maddatum.boss.web;

import org.bson.types.ObjectId;

/** Ids in URLs and bodies are 24-digit hex ObjectIds; anything else cannot name a stored thing. */
public final class Ids {

    private Ids() {}

    /** A malformed id answers 404 like an unknown one: there is nothing by that name. */
    public static ObjectId parse(String id, String what) {
        if (id == null || !ObjectId.isValid(id)) {
            throw ApiProblem.notFound(what, String.valueOf(id));
        }
        return new ObjectId(id);
    }
}
