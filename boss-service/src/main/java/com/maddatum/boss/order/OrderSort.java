package com.maddatum.boss.order;

/**
 * How a listing of orders is sorted: newest first (as every listing is by default), or by the loss a
 * done order carries, lowest or highest first; orders without a loss come after those with one either way.
 */
public enum OrderSort {
    NEWEST, LOWEST_LOSS, HIGHEST_LOSS
}
