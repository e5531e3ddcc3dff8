/**
 * Fleet operations: which Workers may be given work (drain, quarantine) and the record of how each
 * node's attempts ended that quarantine reads. The order verbs reach it through
 * {@link com.maddatum.boss.order.Fleet}; drain and quarantine live in the {@code workers} collection, so
 * they survive a restart and hold across Boss replicas.
 */
package com.maddatum.boss.fleet;
