/**
 * What people and pollers read: jobs joined with their orders and outcomes, listings, counts,
 * leaderboards and the fleet. It sits above {@code job}, {@code order}, {@code outcome} and
 * {@code worker}, which never depend on it. Every listing, count and ranking comes from the order
 * package's memory ({@code OrderQueries}); documents are then fetched by {@code _id}, so what a
 * dashboard polls costs the same however long the history is.
 */
package com.maddatum.boss.readmodel;
