package com.maddatum.boss.security;

/** Who a bearer token belongs to. */
public enum Role {
    /** People and the dashboard: create, cancel and read jobs; read workers and leaderboards. */
    SUBMITTER,
    /** Worker nodes: register, claim, read their job, heartbeat, call back; drain their own node. */
    WORKER,
    /** People who run the fleet: drain, undrain and read the Workers. */
    OPERATOR,
    /**
     * An autoscaler (KEDA) or a scraper: reads the fleet's demand and the Prometheus metrics, nothing
     * else, so that the token a cluster stores in plain sight cannot read jobs or act as a Worker.
     */
    METRICS
}
