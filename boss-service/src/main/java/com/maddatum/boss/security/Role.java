package com.maddatum.boss.security;

/** Who a bearer token belongs to. */
public enum Role {
    /** People and the dashboard: create, cancel and read jobs; read workers and leaderboards. */
    SUBMITTER,
    /** Worker nodes: register, claim, read their job, heartbeat, call back. */
    WORKER
}
