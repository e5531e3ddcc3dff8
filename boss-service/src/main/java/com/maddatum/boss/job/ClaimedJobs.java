package com.maddatum.boss.job;

import com.maddatum.boss.order.JobLookup;
import com.maddatum.boss.web.BsonView;
import java.util.Map;
import java.util.Optional;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/** The job a claim's answer carries: exactly what {@code GET /retrieve/job/{id}} answers ({@link JobController}). */
@Component
class ClaimedJobs implements JobLookup {

    private final JobStore jobs;

    ClaimedJobs(JobStore jobs) {
        this.jobs = jobs;
    }

    @Override
    public Optional<Map<String, Object>> wireJob(String jobId) {
        if (jobId == null || !ObjectId.isValid(jobId)) {
            return Optional.empty();
        }
        return jobs.findById(new ObjectId(jobId)).map(BsonView::plain);
    }
}
