print('{"status": 200, "jobId": "x", "loss": NaN}')
